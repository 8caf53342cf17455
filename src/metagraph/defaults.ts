/**
 * Defaults of the metagraph providers. Each says what changing it does.
 */

/**
 * How often the file provider checks its file (size, mtime, inode) when no `fs.watch` event came. `fs.watch` misses
 * changes on some filesystems (network mounts, some container volumes) and after the file is replaced by a rename;
 * the poll is the fallback. Lower notices an edit sooner at the cost of one `stat` per interval.
 * @default 2_000
 */
export const METAGRAPH_FILE_POLL_INTERVAL_MS = 2_000;

/**
 * After an `fs.watch` event, wait this long for more before reading: an editor's save is often several events
 * (truncate, write, rename). Longer: fewer reads of half-written files; shorter: a change applies sooner.
 * @default 50
 */
export const METAGRAPH_FILE_DEBOUNCE_MS = 50;

/**
 * Largest metagraph file read. SN12 has 256 neurons (a few tens of kB of JSON); a bigger file is a mistake and is
 * refused rather than parsed (the last good snapshot stays in force).
 * @default 16_777_216 (16 MiB)
 */
export const METAGRAPH_FILE_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Stake a validator entry gets when its file entry has none. Upstream's miner only asks "known and active"; stake
 * matters to validators (excuse checks, allowance), which read it from the same provider.
 * @default 0
 */
export const METAGRAPH_DEFAULT_STAKE = 0;
