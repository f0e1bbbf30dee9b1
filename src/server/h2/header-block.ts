// A header block arriving as a HEADERS frame and its CONTINUATIONs (RFC 9113 section 4.3), gathered
// until END_HEADERS within limits. Without them a client could send CONTINUATIONs forever and the
// server would hold every byte (the "CONTINUATION flood"); the block cannot be skipped either, as
// HPACK's table must see it, so going over ends the connection. Pure; the connection feeds it frames.
import { ConnectionError, Frame, FLAG_END_HEADERS, FLAG_END_STREAM, H2Error, headerBlockFragment } from "./frames";

/** CONTINUATIONs after one HEADERS: a block within the size limit needs few (16 KiB frames), empty ones none. */
export const MAX_CONTINUATIONS = 32;

export interface HeaderBlock {
  streamId: number;
  /** The HEADERS frame had END_STREAM. */
  ended: boolean;
  block: Buffer;
}

export class HeaderBlockAssembler {
  private partial?: { streamId: number; ended: boolean; fragments: Buffer[]; bytes: number; continuations: number };

  /** `maxBytes`: the largest encoded block accepted (an encoded block is no larger than the header list it carries). */
  constructor(private readonly maxBytes: number) {}

  /** A block is open: only its CONTINUATIONs may come next. */
  get open(): boolean {
    return this.partial !== undefined;
  }

  /** A HEADERS frame; the whole block if it has END_HEADERS. */
  headers(f: Frame): HeaderBlock | undefined {
    const fragment = headerBlockFragment(f);
    this.partial = { streamId: f.streamId, ended: (f.flags & FLAG_END_STREAM) !== 0, fragments: [fragment], bytes: 0, continuations: 0 };
    return this.add(fragment.length, f);
  }

  /** A CONTINUATION frame; the whole block once one has END_HEADERS. */
  continuation(f: Frame): HeaderBlock | undefined {
    const p = this.partial;
    if (!p || f.streamId !== p.streamId) throw new ConnectionError(H2Error.PROTOCOL_ERROR, "CONTINUATION without its HEADERS");
    if (++p.continuations > MAX_CONTINUATIONS) throw new ConnectionError(H2Error.ENHANCE_YOUR_CALM, `a header block in more than ${MAX_CONTINUATIONS} CONTINUATION frames`);
    if (f.payload.length > 0) p.fragments.push(f.payload);
    return this.add(f.payload.length, f);
  }

  private add(bytes: number, f: Frame): HeaderBlock | undefined {
    const p = this.partial!;
    p.bytes += bytes;
    if (p.bytes > this.maxBytes) throw new ConnectionError(H2Error.ENHANCE_YOUR_CALM, `a header block of more than ${this.maxBytes} bytes`);
    if (!(f.flags & FLAG_END_HEADERS)) return undefined;
    this.partial = undefined;
    return { streamId: p.streamId, ended: p.ended, block: p.fragments.length === 1 ? p.fragments[0] : Buffer.concat(p.fragments) };
  }
}
