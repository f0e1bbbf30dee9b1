// Channel credentials for our own clients of the scheduler (the provider adapter, the Functions host,
// the scale monitor and KEDA scaler, dts durable, dts scale): plaintext for an http:// endpoint, TLS for
// https://, and with a client certificate when DTS_CLIENT_CERT and DTS_CLIENT_KEY name PEM files, for a
// scheduler that requires one (--tls-client-ca). The server's CA is trusted as grpc-js does (the
// system's roots, or GRPC_DEFAULT_SSL_ROOTS_FILE_PATH for a private CA). The files are read whenever a
// client is made, so a renewed certificate reaches the next client without a restart.
import * as fs from "fs";
import * as grpc from "@grpc/grpc-js";

export class ClientCertificateError extends Error {}

export function clientCredentials(secure: boolean, env: NodeJS.ProcessEnv = process.env): grpc.ChannelCredentials {
  if (!secure) return grpc.credentials.createInsecure();
  const cert = env.DTS_CLIENT_CERT || undefined;
  const key = env.DTS_CLIENT_KEY || undefined;
  if (!cert && !key) return grpc.credentials.createSsl();
  if (!cert || !key) throw new ClientCertificateError("DTS_CLIENT_CERT and DTS_CLIENT_KEY go together: set both to PEM files (the client certificate and its private key), or neither");
  const read = (name: string, file: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new ClientCertificateError(`${name} names '${file}', which cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const certificate = read("DTS_CLIENT_CERT", cert);
  const privateKey = read("DTS_CLIENT_KEY", key);
  try {
    return grpc.credentials.createSsl(null, privateKey, certificate);
  } catch (err) {
    throw new ClientCertificateError(`DTS_CLIENT_CERT '${cert}' and DTS_CLIENT_KEY '${key}' do not load as a PEM certificate and its private key (${(err as Error).message})`);
  }
}
