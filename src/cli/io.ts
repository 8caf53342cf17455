/**
 * Where a `horde` command reads and writes. Commands take it as a parameter so tests read what a user would see;
 * `processIo` is the real process.
 */

/** Where a command writes; injectable so tests read what a user would see. */
export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** This process's stdout, stderr, environment and working directory (as at start-up). */
export const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
};
