// TLS for our servers (the scheduler's gRPC and dashboard ports, the KEDA scaler) from PEM files that are watched: a renewed
// certificate (cert-manager, certbot) is served to new connections without a restart, and connections
// already open keep theirs. A file pair that does not load (a renewal half-written) keeps the last good
// one and the log says why.
import * as fs from "fs";
import * as path from "path";
import * as tls from "tls";
import * as grpc from "@grpc/grpc-js";

export interface TlsFiles {
  cert: string;
  key: string;
  /** Client certificates must chain to this CA (mutual TLS). */
  clientCa?: string;
}

type Provider = grpc.experimental.CertificateProvider;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;
type CaListener = grpc.experimental.CaCertificateUpdateListener;

export class TlsFilesError extends Error {}

/** The TLS flags' values (--tls-cert, --tls-key, --tls-client-ca or DTS_TLS_*) as files: all of cert and key, or none. */
export function tlsFilesFrom(cert: string | undefined, key: string | undefined, clientCa: string | undefined): TlsFiles | undefined {
  if (!cert && !key && !clientCa) return undefined;
  if (!cert || !key) throw new TlsFilesError("--tls-cert and --tls-key go together (and --tls-client-ca needs both)");
  return { cert: path.resolve(cert), key: path.resolve(key), clientCa: clientCa ? path.resolve(clientCa) : undefined };
}

/** Watches a set of files and publishes their contents once they load together; one job per provider (identity or CA). */
class WatchedFiles implements Provider {
  private identity?: { certificate: Buffer; privateKey: Buffer };
  private ca?: { caCertificate: Buffer };
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly caListeners = new Set<CaListener>();
  private readonly watchers: fs.FSWatcher[] = [];
  private debounce?: NodeJS.Timeout;

  constructor(private readonly files: string[], private readonly kind: "identity" | "ca", private readonly log: (line: string) => void) {
    // At start a bad file is an error: there is nothing to fall back on.
    const error = this.load();
    if (error) throw new TlsFilesError(error);
    for (const dir of new Set(files.map((f) => path.dirname(f)))) {
      const names = new Set(files.filter((f) => path.dirname(f) === dir).map((f) => path.basename(f)));
      // The directory, not the file: renewals usually replace the file (or a symlink to it).
      const w = fs.watch(dir, (_e, name) => {
        if (name !== null && !names.has(name) && !name.startsWith("..")) return;
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => this.reload(), 100);
      });
      w.unref();
      this.watchers.push(w);
    }
  }

  /** Reads and checks the files; returns why they do not load, or undefined once published. */
  private load(): string | undefined {
    let contents: Buffer[];
    try {
      contents = this.files.map((f) => fs.readFileSync(f));
    } catch (err) {
      return `cannot read ${(err as NodeJS.ErrnoException).path ?? this.files.join(", ")} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    }
    try {
      // Node checks that the key matches the certificate and that the PEM parses.
      if (this.kind === "identity") tls.createSecureContext({ cert: contents[0], key: contents[1] });
      else tls.createSecureContext({ ca: contents[0] });
    } catch (err) {
      return `${this.files.join(" and ")} do not load as ${this.kind === "identity" ? "a certificate and its private key" : "a CA certificate"} (${(err as Error).message})`;
    }
    if (this.kind === "identity") {
      const same = this.identity && this.identity.certificate.equals(contents[0]) && this.identity.privateKey.equals(contents[1]);
      if (same) return undefined;
      this.identity = { certificate: contents[0], privateKey: contents[1] };
      for (const l of this.identityListeners) l(this.identity);
    } else {
      if (this.ca?.caCertificate.equals(contents[0])) return undefined;
      this.ca = { caCertificate: contents[0] };
      for (const l of this.caListeners) l(this.ca);
    }
    return undefined;
  }

  private reload(): void {
    const before = this.kind === "identity" ? this.identity : this.ca;
    const error = this.load();
    if (error) this.log(`dts: TLS files not reloaded: ${error}; serving the last good ones`);
    else if ((this.kind === "identity" ? this.identity : this.ca) !== before) this.log(`dts: TLS ${this.kind === "identity" ? "certificate" : "client CA"} reloaded from ${this.files[0]}`);
  }

  /** What is published now (loaded at construction, so never empty). */
  current(): { certificate: Buffer; privateKey: Buffer } | { caCertificate: Buffer } | undefined {
    return this.kind === "identity" ? this.identity : this.ca;
  }

  addIdentityCertificateListener(l: IdentityListener): void {
    this.identityListeners.add(l);
    if (this.identity) process.nextTick(l, this.identity);
  }
  removeIdentityCertificateListener(l: IdentityListener): void {
    this.identityListeners.delete(l);
  }
  addCaCertificateListener(l: CaListener): void {
    this.caListeners.add(l);
    if (this.ca) process.nextTick(l, this.ca);
  }
  removeCaCertificateListener(l: CaListener): void {
    this.caListeners.delete(l);
  }

  close(): void {
    clearTimeout(this.debounce);
    for (const w of this.watchers) w.close();
  }
}

export interface WatchedTls {
  credentials: grpc.ServerCredentials;
  close(): void;
}

/** The certificate and key, and the client CA when there is one, each watched; closing stops both. */
function watchAll(files: TlsFiles, log: (line: string) => void): { identity: WatchedFiles; ca?: WatchedFiles; close(): void } {
  const identity = new WatchedFiles([files.cert, files.key], "identity", log);
  let ca: WatchedFiles | undefined;
  try {
    ca = files.clientCa ? new WatchedFiles([files.clientCa], "ca", log) : undefined;
  } catch (err) {
    identity.close();
    throw err;
  }
  return {
    identity, ca,
    close: () => {
      identity.close();
      ca?.close();
    },
  };
}

/** Server credentials from watched PEM files; with `clientCa`, clients must present a certificate it signed. */
export function watchedTlsCredentials(files: TlsFiles, log: (line: string) => void = (l) => console.log(l)): WatchedTls {
  const { identity, ca, close } = watchAll(files, log);
  // grpc-js 1.14 passes this function's first argument on as the identity provider and its second as
  // the CA provider (the reverse of its declared parameter names); the TLS tests pin that down.
  const credentials = grpc.experimental.createCertificateProviderServerCredentials(identity, ca ?? null, ca !== undefined);
  return { credentials, close };
}

export interface WatchedTlsOptions {
  /** For https.createServer or http2.createSecureServer: the files as they are now. */
  initial: tls.SecureContextOptions;
  close(): void;
}

/**
 * The same watched files as options for a Node TLS server (the dashboard, the scheduler's gRPC server): `apply`
 * gets every renewed set (setSecureContext serves it to new connections). `log` as for the gRPC credentials.
 */
export function watchedTlsOptions(files: TlsFiles, apply: (options: tls.SecureContextOptions) => void, log: (line: string) => void = (l) => console.log(l)): WatchedTlsOptions {
  const { identity, ca, close } = watchAll(files, log);
  const options = (): tls.SecureContextOptions => {
    const id = identity.current() as { certificate: Buffer; privateKey: Buffer };
    const trusted = ca?.current() as { caCertificate: Buffer } | undefined;
    return { cert: id.certificate, key: id.privateKey, ca: trusted?.caCertificate };
  };
  const initial = options();
  let last = initial;
  const changed = () => {
    const next = options();
    if (next.cert === last.cert && next.key === last.key && next.ca === last.ca) return;
    last = next;
    apply(next);
  };
  identity.addIdentityCertificateListener(changed);
  ca?.addCaCertificateListener(changed);
  return { initial, close };
}
