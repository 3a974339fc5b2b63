// CommonJS + @swc/jest: Nest 12 ships ESM only and Jest on Node 20 cannot require() it,
// so @nestjs is transpiled too (see ../shared/TOOLCHAIN.md, Q2).
const swc = (syntax) => [
  '@swc/jest',
  {
    jsc: {
      target: 'es2023',
      parser: syntax === 'ts' ? { syntax: 'typescript', decorators: true } : { syntax: 'ecmascript' },
      transform: { legacyDecorator: true, decoratorMetadata: true },
    },
    module: { type: 'commonjs' },
  },
];
const libs = ['shared', 'directory', 'receipts', 'complaints', 'database'];
const common = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: { '^.+\\.ts$': swc('ts'), '^.+\\.m?js$': swc('js') },
  // ESM-only packages that Jest on Node 20 must transpile to CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|content-disposition|file-type|strtok3|token-types|@tokenizer|uint8array-extras|@borewit)/)'],
  moduleNameMapper: Object.fromEntries(
    libs.map((l) => [`^@app/${l}(|/.*)$`, `<rootDir>/libs/${l}/src$1`]),
  ),
  testEnvironment: 'node',
};

module.exports = { common };
