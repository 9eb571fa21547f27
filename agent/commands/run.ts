/**
 * `idem run`: starts the agent with the configuration of its flags, environment and config file (SPEC 10;
 * agent/config.ts), and stops it cleanly on SIGTERM/SIGINT (exit 0), on a fatal error (exit 2), or when a newer
 * incarnation of this VM supersedes it (SPEC 5.5, exit 3, which a service manager must not restart).
 */
import { startAgent } from "../agent.ts";
import { settingFlags, settingsHelp } from "../config/flags.ts";
import { loadConfig } from "../config.ts";
import { IdemError } from "../errors.ts";
import { createLogger } from "../log.ts";
import type { Command, CommandInput } from "./command.ts";

/** The text of `idem run --help`; made when asked for (walking every setting's schema is not free). */
function usage(): string {
  return `Usage: idem run [--config FILE] [--reset-journal] [SETTING FLAGS...]

Start the agent. Plans arrive on <prefix>/<agent-id>/plans (prefix "idem"); results go to the plan's
ReplyTo, else <prefix>/<agent-id>/results. Stops cleanly on SIGTERM/SIGINT: takes no more plans, lets the
running one finish (or records it as interrupted after drainGraceSeconds), publishes "offline", exits 0.

  --config FILE       a JSON config file of settings (also IDEM_CONFIG); strict: an unknown key or a
                      value of the wrong type is an error that names it
  --reset-journal     set a damaged journal aside (kept, renamed) and begin a new one
  -h, --help          this text

  --broker embedded[:PORT] starts an in-process broker on 127.0.0.1 (default port 1883).
  --generation N fences off plans for older incarnations of this VM (code 301).
  One agent per data dir: a second one exits 2 naming the owner's PID. A journal copied from another VM
  is set aside at start; a damaged one is refused (exit 2) unless --reset-journal.

Settings (flag, variable, default; lowest first: default, config file, variable, flag). A list is a
repeated flag or a JSON variable; --no-X turns a switch off. Check a configuration with idem config --check:
${settingsHelp()}

Exit: 0 stopped by a signal; 2 configuration, usage or a fatal error (the message names the setting);
      3 superseded by a newer incarnation of this VM (do not restart).`;
}

async function run(input: CommandInput): Promise<number> {
  const { values, env } = input;
  if (values.config === "") {
    throw new IdemError(
      2,
      "Cannot use --config without a file: give --config FILE (a JSON config file), or leave it out",
    );
  }
  const file = (values.config as string | undefined) ?? env.IDEM_CONFIG;
  const { config } = loadConfig({ ...(file ? { file } : {}), env, flags: values });
  // Read once; nothing the agent starts (scripts get a clean environment anyway) inherits the broker password.
  delete process.env.IDEM_BROKER_PASSWORD;
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  // A fatal error (the broker refuses the agent's topics) stops the agent like a signal, then exits 2.
  let early: IdemError | undefined;
  let fail = (error: IdemError) => {
    early = error;
  };
  let supersededEarly = false;
  let superseded = () => {
    supersededEarly = true;
  };
  const agent = await startAgent(config, log, {
    onFatal: (error) => fail(error),
    onSuperseded: () => superseded(),
    ...(values["reset-journal"] ? { resetJournal: true } : {}),
  });
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (code: number) => {
      stopping = true;
      agent.stop().then(
        () => resolve(code),
        (error: unknown) => {
          log.error("stop-failed", { message: String(error) });
          resolve(code === 0 ? 1 : code);
        },
      );
    };
    const signalled = (signal: string) => {
      if (stopping) {
        log.warn("forced-exit", { signal });
        process.exit(1);
      }
      log.info("signal", { signal });
      stop(0);
    };
    fail = (error) => {
      log.error("fatal", { message: error.message });
      if (!stopping) stop(2);
    };
    if (early) fail(early);
    superseded = () => {
      if (!stopping) stop(3);
    };
    if (supersededEarly) superseded();
    process.on("SIGTERM", () => signalled("SIGTERM"));
    process.on("SIGINT", () => signalled("SIGINT"));
  });
}

export const runCommand: Command = {
  name: "run",
  summary: "start the agent",
  get usage() {
    return usage();
  },
  options: { config: { type: "string" }, "reset-journal": { type: "boolean" }, ...settingFlags() },
  allowPositionals: false,
  run,
};
