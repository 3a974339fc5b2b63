// `npm run test:topology`: the multi-process topology suite (test/topology), on servers that
// scripts/topology.sh starts on free ports and stops afterwards. No shared global set-up.
const base = require('./jest.config.js');
module.exports = {
  ...base,
  roots: ['<rootDir>/test/topology/'],
  testRegex: '.*\\.spec-topology\\.ts$',
  globalSetup: undefined,
  globalTeardown: undefined,
  testTimeout: 300000,
};
