/**
 * SPEC 6 / 9a least privilege, the pure part: who `runAs` names (and when the agent cannot switch to it), and the
 * whole environment a script gets.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resolveRunAs, scriptEnvironment } from "../../agent/murano/script_user.ts";

describe("resolveRunAs", () => {
  test("no runAs: scripts run as the agent", () => {
    assert.equal(resolveRunAs(undefined), undefined);
  });
  test("a user name gives its uid, primary gid and home; root may switch to it", () => {
    const user = resolveRunAs({ user: "nobody" }, { euid: 0, egid: 0 });
    assert.equal(user?.uid, 65534);
    assert.equal(user?.name, "nobody");
    assert.equal(typeof user?.gid, "number");
    assert.equal(user?.other, true);
  });
  test("a group overrides the primary group, by name or id", () => {
    assert.equal(resolveRunAs({ user: "nobody", group: "root" }, { euid: 0, egid: 0 })?.gid, 0);
    assert.equal(resolveRunAs({ user: "nobody", group: 4242 }, { euid: 0, egid: 0 })?.gid, 4242);
  });
  test("the agent's own user is not a switch, also when it is not root", () => {
    const user = resolveRunAs({ user: 0, group: 0 }, { euid: 0, egid: 0 });
    assert.equal(user?.other, false);
  });
  test("an agent that is not root cannot run scripts as another user: refused with what to do", () => {
    assert.throws(
      () => resolveRunAs({ user: "root" }, { euid: 1000, egid: 1000 }),
      (error: Error & { code?: number }) =>
        error.code === 2 &&
        /runs as uid 1000, gid 1000, not as root: start the agent as root/.test(error.message),
    );
  });
  test("a machine without setpriv cannot run scripts as another user: refused with what to install", () => {
    assert.throws(
      () => resolveRunAs({ user: "nobody" }, { euid: 0, egid: 0, setpriv: () => undefined }),
      (error: Error & { code?: number }) =>
        error.code === 2 && /setpriv is not installed .*install util-linux's setpriv/.test(error.message),
    );
    // Its own user needs no switch, hence no setpriv.
    assert.equal(
      resolveRunAs({ user: 0, group: 0 }, { euid: 0, egid: 0, setpriv: () => undefined })?.other,
      false,
    );
  });
  test("a user or group nobody has is refused", () => {
    assert.throws(() => resolveRunAs({ user: "idem-no-such-user-x" }, { euid: 0, egid: 0 }), /no such user/);
    assert.throws(() => resolveRunAs({ user: "nobody", group: "idem-no-such-group" }), /no such group/);
  });
  test("a numeric uid the user database does not know needs a group", () => {
    assert.throws(() => resolveRunAs({ user: 54321 }, { euid: 0, egid: 0 }), /give runAs.group too/);
    const user = resolveRunAs({ user: 54321, group: 54321 }, { euid: 0, egid: 0 });
    assert.deepEqual(user, { uid: 54321, gid: 54321, name: "54321", home: "/", other: true });
  });
});

describe("scriptEnvironment", () => {
  test("PATH, HOME, LANG, the config's environment and the marks; nothing else of the agent's", () => {
    process.env.IDEM_TEST_SECRET = "leak";
    try {
      const env = scriptEnvironment({
        environment: { HTTP_PROXY: "http://proxy:3128", IDEM_JOURNAL: "forged" },
        marks: { IDEM_JOURNAL: "/data/journal", IDEM_EXECUTION: "7" },
        user: { uid: 1, gid: 1, name: "daemon", home: "/usr/sbin", other: true },
      });
      assert.deepEqual(Object.keys(env).sort(), [
        "HOME",
        "HTTP_PROXY",
        "IDEM_EXECUTION",
        "IDEM_JOURNAL",
        "LANG",
        "PATH",
      ]);
      assert.equal(env.HOME, "/usr/sbin", "the user's home");
      assert.equal(env.IDEM_JOURNAL, "/data/journal", "the marks win: the orphan reaper relies on them");
    } finally {
      delete process.env.IDEM_TEST_SECRET;
    }
  });
});
