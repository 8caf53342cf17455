/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // transpile-only (isolatedModules): `npm run typecheck` is what catches type errors
    '^.+\\.ts$': ['ts-jest', {}],
    // ESM-only dependencies compiled to CJS because jest on Node 20 cannot require(esm)
    '^.+\\.m?js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@xstate/store|@statelyai/inspect)/)'],
  testTimeout: 20000,
  reporters: ['default', '<rootDir>/tests/support/summaryReporter.js'],
};
