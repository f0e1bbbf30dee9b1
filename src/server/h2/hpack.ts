// HPACK (RFC 7541), the header compression of HTTP/2: a decoder with its dynamic table and Huffman
// decoding, for the header blocks a client sends, and an encoder that writes literals only (no
// dynamic table, no Huffman), which every decoder must accept. Pure functions and state; no I/O.

/** A malformed or oversized header block: a connection error (COMPRESSION_ERROR) in HTTP/2. */
export class HpackError extends Error {}

export type HeaderList = [name: string, value: string][];

// RFC 7541 Appendix A.
const STATIC: readonly (readonly [string, string])[] = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""],
  ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""], ["date", ""], ["etag", ""],
  ["expect", ""], ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""], ["if-modified-since", ""],
  ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""], ["last-modified", ""], ["link", ""],
  ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""], ["proxy-authorization", ""], ["range", ""],
  ["referer", ""], ["refresh", ""], ["retry-after", ""], ["server", ""], ["set-cookie", ""],
  ["strict-transport-security", ""], ["transfer-encoding", ""], ["user-agent", ""], ["vary", ""], ["via", ""],
  ["www-authenticate", ""],
];

// RFC 7541 Appendix B: the Huffman code's length in bits for each symbol (256 is EOS). The code is
// canonical, so the codes themselves follow from the lengths (huffmanCodes below).
const HUFFMAN_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6,
  12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13,
  14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14,
  13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23,
  23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22,
  22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27,
  27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27,
  27, 26, 30,
];
const EOS = 256;

/**
 * Canonical decoding tables: symbols sorted by (length, symbol); for each length the first code of
 * that length and where its symbols start in the sorted list.
 */
const HUFFMAN = (() => {
  const symbols = HUFFMAN_LENGTHS.map((_, s) => s).sort((a, b) => HUFFMAN_LENGTHS[a] - HUFFMAN_LENGTHS[b] || a - b);
  const firstCode = new Array<number>(31).fill(0);
  const firstIndex = new Array<number>(31).fill(0);
  const count = new Array<number>(31).fill(0);
  for (const s of symbols) count[HUFFMAN_LENGTHS[s]]++;
  let code = 0;
  let index = 0;
  for (let len = 1; len <= 30; len++) {
    firstCode[len] = code;
    firstIndex[len] = index;
    code = (code + count[len]) * 2;
    index += count[len];
  }
  return { symbols, firstCode, firstIndex, count };
})();

/** The Huffman code of each symbol, for tests and for an encoder that wants one. */
export function huffmanCodes(): { code: number; bits: number }[] {
  const out: { code: number; bits: number }[] = [];
  const next = HUFFMAN.firstCode.slice();
  for (const s of HUFFMAN.symbols) out[s] = { code: next[HUFFMAN_LENGTHS[s]]++, bits: HUFFMAN_LENGTHS[s] };
  return out;
}

export function huffmanDecode(bytes: Buffer, start: number, end: number): string {
  const { symbols, firstCode, firstIndex, count } = HUFFMAN;
  const out: number[] = [];
  let code = 0;
  let len = 0;
  for (let i = start; i < end; i++) {
    const byte = bytes[i];
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      len++;
      const offset = code - firstCode[len];
      if (offset >= 0 && offset < count[len]) {
        const symbol = symbols[firstIndex[len] + offset];
        if (symbol === EOS) throw new HpackError("a Huffman string contains EOS");
        out.push(symbol);
        code = 0;
        len = 0;
      } else if (len >= 30) {
        throw new HpackError("an invalid Huffman code");
      }
    }
  }
  // Padding: fewer than 8 bits, all ones (the start of EOS).
  if (len > 7 || code !== 2 ** len - 1) throw new HpackError("invalid Huffman padding");
  return Buffer.from(out).toString("latin1");
}

/** Huffman-coded strings this short are remembered by their bytes (see HpackDecoder.huffmanSeen). */
const HUFFMAN_MEMO_BYTES = 64;
const HUFFMAN_MEMO_ENTRIES = 64;

/** Decodes the header blocks of one connection, in order (they share the dynamic table). */
export class HpackDecoder {
  /** Newest first, as HPACK indexes it. */
  private readonly table: [string, string][] = [];
  private size = 0;
  private maxSize: number;
  /**
   * Short Huffman-coded values by their coded bytes. Clients send some fields as literals on every
   * request (Node's HTTP/2 client sends `:path` without indexing), so each call's method name would be
   * decoded bit by bit again; emptied when full, so a peer sending new strings gains nothing.
   */
  private readonly huffmanSeen = new Map<string, string>();

  /** `limit`: the table size this side advertised (SETTINGS_HEADER_TABLE_SIZE); `maxListBytes`: the largest header list accepted. */
  constructor(private readonly limit = 4096, private readonly maxListBytes = 64 * 1024) {
    this.maxSize = limit;
  }

  decode(block: Buffer): HeaderList {
    const headers: HeaderList = [];
    let listBytes = 0;
    let at = 0;
    let first = true;
    while (at < block.length) {
      const b = block[at];
      let name: string;
      let value: string;
      if (b & 0x80) {
        // Indexed header field.
        const [index, next] = readInt(block, at, 7);
        at = next;
        [name, value] = this.entry(index);
      } else if (b & 0x40 || (b & 0xe0) === 0) {
        // Literal, with incremental indexing (6-bit name index) or without / never indexed (4-bit).
        const indexing = (b & 0x40) !== 0;
        const [index, next] = readInt(block, at, indexing ? 6 : 4);
        at = next;
        if (index === 0) [name, at] = this.readString(block, at);
        else name = this.entry(index)[0];
        [value, at] = this.readString(block, at);
        if (indexing) this.add(name, value);
      } else {
        // Dynamic table size update (001xxxxx): only at the start of a block.
        if (!first) throw new HpackError("a table size update after the first header field");
        const [size, next] = readInt(block, at, 5);
        at = next;
        if (size > this.limit) throw new HpackError(`a table size update to ${size}, above the advertised ${this.limit}`);
        this.maxSize = size;
        this.evict(0);
        continue;
      }
      first = false;
      listBytes += name.length + value.length + 32;
      if (listBytes > this.maxListBytes) throw new HpackError(`a header list above ${this.maxListBytes} bytes`);
      headers.push([name, value]);
    }
    return headers;
  }

  private readString(block: Buffer, at: number): [string, number] {
    if (at >= block.length) throw new HpackError("a header block ends before a string");
    const huffman = (block[at] & 0x80) !== 0;
    const [length, start] = readInt(block, at, 7);
    const end = start + length;
    if (end > block.length) throw new HpackError("a header block ends inside a string");
    if (!huffman) return [block.toString("latin1", start, end), end];
    if (length > HUFFMAN_MEMO_BYTES) return [huffmanDecode(block, start, end), end];
    const coded = block.toString("latin1", start, end);
    let text = this.huffmanSeen.get(coded);
    if (text === undefined) {
      text = huffmanDecode(block, start, end);
      if (this.huffmanSeen.size >= HUFFMAN_MEMO_ENTRIES) this.huffmanSeen.clear();
      this.huffmanSeen.set(coded, text);
    }
    return [text, end];
  }

  private entry(index: number): readonly [string, string] {
    if (index === 0) throw new HpackError("header index 0");
    if (index <= STATIC.length) return STATIC[index - 1];
    const e = this.table[index - STATIC.length - 1];
    if (!e) throw new HpackError(`header index ${index} is not in the table`);
    return e;
  }

  private add(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.evict(size);
    // An entry larger than the table empties it and is not added (RFC 7541 4.4).
    if (size > this.maxSize) return;
    this.table.unshift([name, value]);
    this.size += size;
  }

  /** Drops the oldest entries until `room` more bytes fit. */
  private evict(room: number): void {
    while (this.table.length > 0 && this.size + room > this.maxSize) {
      const [n, v] = this.table.pop()!;
      this.size -= n.length + v.length + 32;
    }
  }
}

/** An HPACK integer with an N-bit prefix at `at`: its value and the offset after it. */
function readInt(block: Buffer, at: number, prefixBits: number): [number, number] {
  const max = (1 << prefixBits) - 1;
  let value = block[at++] & max;
  if (value < max) return [value, at];
  let shift = 0;
  for (;;) {
    if (at >= block.length) throw new HpackError("a header block ends inside an integer");
    const b = block[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [value, at];
    if (shift > 28) throw new HpackError("an integer above 2^28 in a header block");
  }
}

const STATIC_NAME = new Map<string, number>();
STATIC.forEach(([name], i) => {
  if (!STATIC_NAME.has(name)) STATIC_NAME.set(name, i + 1);
});
const STATIC_FIELD = new Map<string, number>(STATIC.map(([n, v], i) => [`${n}\0${v}`, i + 1]));

/**
 * A header block of these fields: a whole static-table entry indexed, otherwise a literal without
 * indexing (with the static table's index for its name when it has one). Names must be lower case.
 */
export function encodeHeaders(headers: readonly (readonly [string, string])[]): Buffer {
  const parts: number[] = [];
  for (const [name, value] of headers) {
    const full = STATIC_FIELD.get(`${name}\0${value}`);
    if (full !== undefined) {
      writeInt(parts, 0x80, 7, full);
      continue;
    }
    const nameIndex = STATIC_NAME.get(name);
    if (nameIndex !== undefined) writeInt(parts, 0x00, 4, nameIndex);
    else {
      parts.push(0x00);
      writeString(parts, name);
    }
    writeString(parts, value);
  }
  return Buffer.from(parts);
}

function writeInt(out: number[], pattern: number, prefixBits: number, value: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(pattern | value);
    return;
  }
  out.push(pattern | max);
  value -= max;
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

function writeString(out: number[], s: string): void {
  const bytes = Buffer.from(s, "latin1");
  writeInt(out, 0x00, 7, bytes.length);
  for (const b of bytes) out.push(b);
}
