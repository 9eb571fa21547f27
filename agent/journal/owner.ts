/**
 * One owner per data dir (SPEC 5.5): an exclusive lock held for the owner's whole life, released by the kernel
 * when the process ends, however it ends (`kill -9` included).
 *
 * The lock is a Unix socket in Linux's abstract namespace, named after the data dir's device and inode numbers
 * and a secret kept in the data dir (`owner.secret`, 0600: a local user who cannot read it cannot squat the name):
 * binding it is atomic and exclusive, and it leaves no file behind to go stale. The same folder reached by any
 * path — a symbolic link, a bind mount, a container's volume — has the same name (its real path would not: a bind
 * mount has its own). A second process finds it taken, connects, and the owner tells it who it is, so the refusal
 * names the owner's PID. Abstract sockets are per network
 * namespace: two processes in different network namespaces on one data dir are not kept apart (documented).
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, linkSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { describe, ErrorCode, IdemError } from "../errors.ts";

/** What the owner says of itself to a process that finds the data dir taken. */
export interface OwnerInfo {
  pid: number;
  command: string;
  since: string;
}

export interface Ownership {
  readonly dataDir: string;
  /** Gives the data dir up (also happens when the process ends). */
  release(): Promise<void>;
}

/**
 * The abstract socket address that stands for the folder `dataDir`: its device and inode numbers and the data
 * dir's own secret. Abstract sockets have no permissions, so the name must be one that only those who may use
 * the data dir can know: without the secret, any local user could bind it first and keep the agent from starting.
 */
function lockAddress(dataDir: string): string {
  const { dev, ino } = statSync(dataDir, { bigint: true });
  const hash = createHash("sha256")
    .update(`${dev}:${ino}:${ownerSecret(dataDir)}`)
    .digest("hex")
    .slice(0, 32);
  return `\0idem-data-dir-${hash}`;
}

const SECRET_FILE = "owner.secret";

/**
 * The data dir's secret: 32 random bytes in `<dataDir>/owner.secret`, mode 0600, made once (written whole to a
 * temporary file, then linked into place, so that concurrent first starts agree on one). Throws IdemError(2) when
 * the file is another user's or readable by others (whoever could read it could squat the lock).
 */
function ownerSecret(dataDir: string): string {
  const file = join(dataDir, SECRET_FILE);
  if (!existsSync(file)) {
    const temporary = join(dataDir, `${SECRET_FILE}.${process.pid}.${randomBytes(6).toString("hex")}`);
    writeFileSync(temporary, randomBytes(32).toString("hex"), { mode: 0o600 });
    try {
      linkSync(temporary, file);
    } catch (error) {
      if ((error as { code?: unknown }).code !== "EEXIST") throw error;
    } finally {
      rmSync(temporary, { force: true });
    }
  }
  const stat = statSync(file);
  const uid = process.getuid?.();
  if (uid !== undefined && uid !== 0 && stat.uid !== uid) {
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot trust ${file}: it belongs to uid ${stat.uid}, not to this user (uid ${uid}): remove it`,
    );
  }
  if ((stat.mode & 0o077) !== 0) {
    if (stat.uid !== uid) {
      throw new IdemError(
        ErrorCode.InvalidPlan,
        `Cannot trust ${file}: others may read it (mode ${(stat.mode & 0o777).toString(8)}): remove it`,
      );
    }
    chmodSync(file, 0o600);
  }
  return readFileSync(file, "utf8").trim();
}

/**
 * Takes the data dir (which must exist) for this process, as `command` ("run", "forget", "fence" …). Throws
 * IdemError(2) naming the owner's PID when another process holds it: the caller must then touch nothing.
 */
export async function acquireOwnership(dataDir: string, command: string): Promise<Ownership> {
  let address: string;
  try {
    address = lockAddress(dataDir);
  } catch (cause) {
    if (cause instanceof IdemError) throw cause;
    const code = (cause as { code?: unknown }).code;
    if (code === "ENOSPC" || code === "EDQUOT") {
      throw new IdemError(
        ErrorCode.InvalidPlan,
        `Cannot create the journal in ${join(dataDir, "journal")}: no space left on the disk (writing ${SECRET_FILE}): free some space and start again`,
        { cause },
      );
    }
    const what = code === "ENOENT" ? `Cannot find data dir ${dataDir}` : `Cannot lock data dir ${dataDir}`;
    throw new IdemError(ErrorCode.InvalidPlan, `${what}: ${describe(cause)}`, { cause });
  }
  const me: OwnerInfo = { pid: process.pid, command, since: new Date().toISOString() };
  const server = createServer((socket) => socket.end(`${JSON.stringify(me)}\n`));
  try {
    await listen(server, address);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "EADDRINUSE") {
      throw new IdemError(ErrorCode.InvalidPlan, `Cannot lock data dir ${dataDir}: ${describe(error)}`, {
        cause: error,
      });
    }
    const owner = await ownerOf(address);
    const who = owner
      ? `idem ${owner.command} (PID ${owner.pid}, since ${owner.since})`
      : "another process (it did not say which)";
    throw new IdemError(
      ErrorCode.InvalidPlan,
      `Cannot use data dir ${dataDir}: ${who} owns it. One agent per data dir: stop that one first, or give this one another --data-dir`,
    );
  }
  // The lock must not keep the process alive by itself.
  server.unref();
  return {
    dataDir,
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function listen(server: Server, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(address, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Asks the owner who it is (within 2 s); undefined when it does not answer. */
function ownerOf(address: string): Promise<OwnerInfo | undefined> {
  return new Promise((resolve) => {
    let text = "";
    const socket = connect(address);
    const done = (info: OwnerInfo | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(info);
    };
    const timer = setTimeout(() => done(undefined), 2000);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    socket.on("end", () => {
      try {
        done(JSON.parse(text) as OwnerInfo);
      } catch {
        done(undefined);
      }
    });
    socket.on("error", () => done(undefined));
  });
}
