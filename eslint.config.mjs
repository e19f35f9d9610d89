import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration through src/infra/config.ts.',
        },
      ],
    },
  },
  {
    files: ['src/infra/config.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['src/domain/**/*.ts', 'src/projections/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/graphql/**', '**/infra/**'] }],
    },
  },
  {
    files: ['src/graphql/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/infra/**'] }] },
  },
);
