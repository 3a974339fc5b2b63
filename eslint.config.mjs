import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.demo/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  // Boundaries (docs/ARCHITECTURE.md): a lib is used through its index; apps share libs, never
  // each other; libs never reach into apps; the dashboards take only the domain vocabulary.
  {
    files: ['apps/api/**/*.ts', 'apps/worker/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // @app/shared's leaf modules are allowed: the shared kernel's index pulls in Nest
              // modules, which its own leaves (errors, money) must not import back.
              group: ['@app/*/*', '!@app/shared/*'],
              message: 'Import a lib through its index: @app/<lib>.',
            },
            { group: ['**/libs/**'], message: 'Import a lib through its alias: @app/<lib>.' },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@app/*/*', '!@app/shared/*'], message: 'Import a lib through its index.' },
            { group: ['**/libs/**'], message: 'Import a lib through its alias.' },
            {
              group: ['**/apps/worker/**', '**/worker/src/**'],
              message: 'The API and the worker share libs, never each other.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/worker/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@app/*/*', '!@app/shared/*'], message: 'Import a lib through its index.' },
            { group: ['**/libs/**'], message: 'Import a lib through its alias.' },
            {
              group: ['**/apps/api/**', '**/api/src/**'],
              message: 'The API and the worker share libs, never each other.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@app/*/*', '!@app/shared/*'], message: 'Import a lib through its index.' },
            { group: ['**/apps/**'], message: 'A lib never imports an app.' },
            {
              // Another lib by a relative path (../../receipts/src/…) skips its index.
              regex: '^(\\.\\./)+(libs/)?(complaints|database|directory|receipts|shared)/src(/|$)',
              message: 'Import another lib through its alias: @app/<lib>.',
            },
          ],
        },
      ],
    },
  },
  // One concept a file: nothing in the libs grows past 400 lines (issue 12).
  {
    files: ['libs/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 400 }] },
  },
  {
    files: ['apps/web/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)libs/(?!complaints/src/vocabulary$)',
              message:
                'The dashboards take only the domain vocabulary from the libs (it has no imports).',
            },
            {
              group: ['@app/*', '@nestjs/*', 'node:*', 'typeorm', 'pg'],
              message: 'Server code stays out of the browser bundle.',
            },
            {
              group: ['**/apps/api/**', '**/apps/worker/**', '**/api/src/**', '**/worker/src/**'],
              message:
                "The dashboards reach the API over HTTP only (its types through the generated client), never its code or the worker's.",
            },
          ],
        },
      ],
    },
  },
);
