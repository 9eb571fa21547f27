/**
 * `idem config [--config FILE] --check | --print` (SPEC 10): validates a configuration exactly as `idem run`
 * would read it (same flags, variables and file; the files it names are read too), without starting anything.
 * `--check` exits 0, or 2 naming every problem; `--print` shows each setting's effective value and where it came
 * from (default, config file, env VAR, flag), secrets masked (agent/config/print.ts).
 */

import { settingFlags, settingsHelp } from "../config/flags.ts";
import { printConfig } from "../config/print.ts";
import { loadConfig } from "../config.ts";
import { IdemError } from "../errors.ts";
import type { Command, CommandInput } from "./command.ts";

const USAGE = `Usage: idem config [--config FILE] [SETTING FLAGS...] --check | --print

Read the configuration as idem run would (defaults, config file, IDEM_* variables, flags) and
  --check   say whether it is valid: exit 0, or exit 2 with one line per problem naming the key,
            where it came from and what is accepted
  --print   show each setting's value and where it came from (default / config file / env VAR / flag);
            secrets (broker.password, the keys' PEM, environment values) as "***"
  --config FILE   the JSON config file (also IDEM_CONFIG)
  -h, --help      this text

Settings (flag, variable, default):
${settingsHelp()}

The settings reference (docs/configuration.md in the source repository) is generated from the same schema.`;

async function config(input: CommandInput): Promise<number> {
  const { values, env } = input;
  if (Boolean(values.check) === Boolean(values.print)) {
    throw new IdemError(2, "Cannot tell what to do: give idem config --check or idem config --print");
  }
  if (values.config === "") {
    throw new IdemError(
      2,
      "Cannot use --config without a file: give --config FILE (a JSON config file), or leave it out",
    );
  }
  const file = (values.config as string | undefined) ?? env.IDEM_CONFIG;
  const resolved = loadConfig({ ...(file ? { file } : {}), env, flags: values });
  if (values.print) input.out(`${printConfig(resolved)}\n`);
  else input.out(`configuration OK${file ? ` (config file ${file})` : ""}\n`);
  return 0;
}

export const configCommand: Command = {
  name: "config",
  summary: "check a configuration, or print it with where each value came from",
  usage: USAGE,
  options: {
    config: { type: "string" },
    check: { type: "boolean" },
    print: { type: "boolean" },
    ...settingFlags(),
  },
  allowPositionals: false,
  run: config,
};
