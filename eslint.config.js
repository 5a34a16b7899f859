// ESLint for the TypeScript sources (`npm run lint`): eslint's and typescript-eslint's
// recommended rules with type information, so that promises nobody awaits or handles
// (no-floating-promises) and promises passed where a plain value is expected
// (no-misused-promises) are errors. Formatting is Prettier's job (.prettierrc.json).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'artifacts/', 'out/', '.pipeline/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js', 'ui/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // node:test's describe/it/before return promises that the test runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      // `_`-prefixed names are deliberately unused (a callback's leading parameters).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Noise for this code base, each for a reason:
      // - the no-unsafe-* family: parsed JSON, DuckDB rows and tfjs's loosely typed values are
      //   `any` at the boundary and are checked where they are used (zod, explicit casts);
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // - DuckDB values and template strings: `String(v)` of a column value is the intended text;
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      // - tfjs ops return the general tf.Tensor; the `as tf.Tensor2D` casts document shapes even
      //   where the type checker can already tell;
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // - src/stats/normal.ts writes published coefficients with all their digits, more than a
      //   double holds, so they can be compared with the source;
      'no-loss-of-precision': 'off',
      // - async methods that satisfy an async interface (tfjs Optimizer, the stage contract)
      //   without awaiting anything themselves;
      '@typescript-eslint/require-await': 'off',
      // - a rethrown error here is a new, located message for the user; its cause is not shown.
      'preserve-caught-error': 'off',
    },
  },
  // The dashboard's browser script: the page's globals, and the vega builds the page loads first.
  {
    files: ['ui/*.js'],
    languageOptions: {
      globals: {
        document: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        window: 'readonly',
        vega: 'readonly',
        vegaLite: 'readonly',
      },
    },
  },
);
