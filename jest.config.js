const { common } = require('./jest.common');

// Browser suites: the dashboards in headless Chromium (test/helpers/browser.ts says how to
// install it when it is missing).
const BROWSER = '/test/web(-[a-z0-9]+)?\\.e2e-spec\\.ts$';

/**
 * Three projects, all run by `npm test`: `unit` (pure domain code next to it in apps/ and libs/,
 * no database), `e2e` (the API and the worker against real PostgreSQL and Redis, a database and
 * a queue prefix per Jest worker), `browser`. One of them: `npm test -- --selectProjects unit`.
 */
module.exports = {
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 30000,
  // Two Jest workers: each has its own database and queue prefix (test/worker-database.ts),
  // so suites in different workers share nothing; 442 s → 248 s for the whole suite here.
  maxWorkers: 2,
  projects: [
    {
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/apps/', '<rootDir>/libs/'],
      testRegex: '.*\\.spec\\.ts$',
    },
    {
      ...common,
      displayName: 'e2e',
      roots: ['<rootDir>/test/'],
      testRegex: '.*\\.e2e-spec\\.ts$',
      testPathIgnorePatterns: [BROWSER],
      setupFilesAfterEnv: ['<rootDir>/test/worker-database.ts'],
    },
    {
      ...common,
      displayName: 'browser',
      roots: ['<rootDir>/test/'],
      testRegex: BROWSER,
      setupFilesAfterEnv: ['<rootDir>/test/worker-database.ts'],
    },
  ],
};
