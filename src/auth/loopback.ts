// Loopback addresses: where plaintext (an http:// issuer, an unauthenticated listener) harms no one else.

/** localhost, 127.x.x.x or ::1 (a host name as URL.hostname or a listen address gives it). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "").replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

export function isLoopbackUrl(url: URL): boolean {
  return isLoopbackHost(url.hostname);
}
