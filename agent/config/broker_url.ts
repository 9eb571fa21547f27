/**
 * What `broker.url` / `broker.urls` (and `idem send --broker`) accept: `mqtt://HOST:PORT`, `mqtts://HOST:PORT`,
 * `tcp://`, `ssl://`, a bare `HOST[:PORT]` (read as `mqtt://…`), or `embedded[:PORT]` (an in-process broker on
 * 127.0.0.1, PORT 0–65535, default 1883). A URL with a password in it is refused: it would be printed in every
 * log line that names the broker and be seen by anyone who can list processes. Messages never repeat it.
 */
import { IdemError } from "../errors.ts";

const EMBEDDED = /^embedded(?::(\d+))?$/;

/** The URL with its scheme; throws IdemError(2) naming what to give instead. */
export function brokerUrl(url: string): string {
  const embedded = EMBEDDED.exec(url);
  if (embedded) {
    const port = Number(embedded[1] ?? 1883);
    if (port > 65535) {
      throw new IdemError(2, `Cannot use broker "${url}": give embedded:PORT with a PORT from 0 to 65535`);
    }
    return url;
  }
  const withScheme = url.includes("://") ? url : `mqtt://${url}`;
  let parsed: URL | undefined;
  try {
    parsed = new URL(withScheme);
  } catch {
    parsed = undefined;
  }
  if (parsed?.password) {
    throw new IdemError(
      2,
      `Cannot use a broker URL with a password in it (${redactedUrl(withScheme)}): give the password in the config file's broker.password or in IDEM_BROKER_PASSWORD, and the URL without it`,
    );
  }
  if (
    parsed === undefined ||
    !["mqtt:", "mqtts:", "tcp:", "ssl:"].includes(parsed.protocol) ||
    parsed.hostname === ""
  ) {
    throw new IdemError(
      2,
      `Cannot use broker "${redactedUrl(url)}": give mqtt://HOST:PORT, mqtts://HOST:PORT (PORT 1-65535) or embedded[:PORT]`,
    );
  }
  return withScheme;
}

/** `url` with whatever stands between `://` and `@` (user and password) replaced by `***`: safe to print. */
export function redactedUrl(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, "$1***@");
}

/** The user named in `mqtt://USER@HOST`, if any. */
export function urlUsername(url: string): string | undefined {
  if (!url.includes("://")) return undefined;
  const user = new URL(url).username;
  return user === "" ? undefined : decodeURIComponent(user);
}

/** `url` without its `USER@`. */
export function withoutUserinfo(url: string): string {
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, "$1");
}
