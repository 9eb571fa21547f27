/** The agent's version, as `idem --version` prints it and the status message reports it. */
export const VERSION = "0.1.0";
