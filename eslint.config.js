import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      '.cognition/',
      '.cognition-*/',
      'coverage/',
      'scratch/',
      '**/cdk.out/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportDeclaration[source.value=/^\\.\\.\\/(cli|local|cdk)\\//]',
          message: 'Lower layers must not import the cli, local or cdk layers (see DESIGN.md).',
        },
      ],
    },
  },
  {
    files: ['src/cli/**', 'src/local/**', 'src/cdk/**', 'test/**', 'bench/**', 'examples/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
