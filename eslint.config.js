// Lint: TypeScript rules and the dependency direction of DESIGN.md:
// types ← store, scheduler ← server; types ← client ← cli, agent, console (and store ← `wharf admin`).
// Import cycles are checked by madge (see the lint script in package.json).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const packages = ['types', 'store', 'scheduler', 'client', 'server', 'agent', 'cli', 'console'];
const allowed = {
  types: [],
  store: ['types'],
  scheduler: ['types'],
  client: ['types'],
  server: ['types', 'store', 'scheduler'],
  agent: ['types', 'client'],
  cli: ['types', 'client'],
  console: ['types', 'client'],
};

const importRules = (pkg, deps) => ({
  'no-restricted-imports': ['error', {
    patterns: [
      {
        group: packages.filter((p) => p !== pkg && !deps.includes(p)).map((p) => `@wharf/${p}`),
        message: `packages/${pkg} may depend only on ${deps.map((p) => '@wharf/' + p).join(', ') || 'no other Wharf package'} (see DESIGN.md).`,
      },
      { group: ['@wharf/*/src/*', '@wharf/*/dist/*'], message: 'Import a package through its index, not its files.' },
      { group: ['../../*'], message: 'Do not reach across packages with relative paths; import @wharf/<name>.' },
    ],
  }],
});

const direction = [
  ...packages.map((pkg) => ({ files: [`packages/${pkg}/src/**/*.{ts,tsx}`], rules: importRules(pkg, allowed[pkg]) })),
  // `wharf admin` runs on a server machine and opens the stores itself (migrate); the rest of the CLI may not.
  { files: ['packages/cli/src/commands/admin*.ts'], rules: importRules('cli', [...allowed.cli, 'store']) },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  { files: ['**/*.{js,mjs}'], languageOptions: { globals: globals.node } },
  { files: ['packages/console/src/**/*.{ts,tsx}'], languageOptions: { globals: globals.browser } },
  ...direction,
);
