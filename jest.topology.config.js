// `npm run test:topology`: the multi-process topology suite (test/topology), on servers that
// scripts/topology.sh starts on free ports and stops afterwards. No shared global set-up.
const { common } = require('./jest.common');

module.exports = {
  ...common,
  displayName: 'topology',
  roots: ['<rootDir>/test/topology/'],
  testRegex: '.*\\.spec-topology\\.ts$',
  testTimeout: 300000,
};
