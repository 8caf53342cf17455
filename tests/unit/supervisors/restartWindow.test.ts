import { recordRestart, restartsInWindow } from '../../../src/supervisors/restartWindow';

describe('restartsInWindow', () => {
  it.each([
    { timestamps: [], nowMs: 1_000, periodMs: 500, kept: [] },
    { timestamps: [0, 400, 900], nowMs: 1_000, periodMs: 500, kept: [900] },
    // A restart exactly periodMs old still counts, as OTP keeps R >= Now - Period.
    { timestamps: [500, 999], nowMs: 1_000, periodMs: 500, kept: [500, 999] },
    { timestamps: [499, 500], nowMs: 1_000, periodMs: 500, kept: [500] },
  ])('keeps $kept of $timestamps at $nowMs within $periodMs ms', ({ timestamps, nowMs, periodMs, kept }) => {
    expect(restartsInWindow(timestamps, nowMs, periodMs)).toEqual(kept);
  });
});

describe('recordRestart', () => {
  it.each([
    // intensity 0: not even one restart is tolerated
    { before: [], nowMs: 0, intensity: 0, periodMs: 5_000, after: [0], exceeded: true },
    { before: [], nowMs: 0, intensity: 1, periodMs: 5_000, after: [0], exceeded: false },
    { before: [0], nowMs: 4_999, intensity: 1, periodMs: 5_000, after: [0, 4_999], exceeded: true },
    { before: [0], nowMs: 5_000, intensity: 1, periodMs: 5_000, after: [0, 5_000], exceeded: true },
    { before: [0], nowMs: 5_001, intensity: 1, periodMs: 5_000, after: [5_001], exceeded: false },
    // 5 in 30 s: the 6th within 30 s is one too many
    { before: [0, 1, 2, 3], nowMs: 4, intensity: 5, periodMs: 30_000, after: [0, 1, 2, 3, 4], exceeded: false },
    { before: [0, 1, 2, 3, 4], nowMs: 5, intensity: 5, periodMs: 30_000, after: [0, 1, 2, 3, 4, 5], exceeded: true },
    {
      before: [0, 1, 2, 3, 4],
      nowMs: 30_001,
      intensity: 5,
      periodMs: 30_000,
      after: [1, 2, 3, 4, 30_001],
      exceeded: false,
    },
    { before: [0, 1, 2, 3, 4], nowMs: 30_005, intensity: 5, periodMs: 30_000, after: [30_005], exceeded: false },
    // bounded: at most intensity + 1 timestamps are kept, however long the storm
    { before: [1, 2, 3], nowMs: 4, intensity: 1, periodMs: 30_000, after: [3, 4], exceeded: true },
  ])(
    'at $nowMs after $before with $intensity per $periodMs ms: exceeded=$exceeded',
    ({ before, nowMs, intensity, periodMs, after, exceeded }) => {
      expect(recordRestart(before, nowMs, { intensity, periodMs })).toEqual({ timestamps: after, exceeded });
    },
  );

  it('does not modify the timestamps it is given', () => {
    const before = [0, 1];
    recordRestart(before, 2, { intensity: 5, periodMs: 10 });
    expect(before).toEqual([0, 1]);
  });
});
