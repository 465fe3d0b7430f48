/**
 * The layering of `src/`, checked by `test/architecture/layering.test.ts` (see docs/architecture.md).
 *
 * Imports flow one way: `http/`, `cli/`, `web/` → `services/` → `domain/`. `store/` implements the ports
 * that `services/` declares, so it may import their types (never their values) and `domain/`. Only the
 * composition root (`src/main.ts`, `src/wiring/`) imports both `store/` and the layers above it.
 * `domain/` is pure: no other layer of the project and nothing that does I/O.
 *
 * `terminal-core/` is the second terminal's own code (its vault, its signed client), shared by the two
 * terminals the project ships: `cli/` and `web/` → `terminal-core/` → `domain/`. It runs in browsers as
 * it is, so it imports no Node.js module and no package.
 *
 * The rules apply to the code, not to its tests: a test may build a platform from any layer. Cycles are
 * forbidden everywhere in `src/`, tests included, because a cycle among modules is a cycle whoever
 * imports it.
 */

/** Files that are tests, which the layer rules leave out. */
const test = '\\.test\\.ts$';

/** Core modules that do I/O (files, network, processes, the host), which `domain/` may not import. */
const ioCoreModules =
  '^(node:)?(fs|fs/promises|net|http|https|http2|child_process|cluster|dgram|dns|dns/promises|tls|' +
  'readline|readline/promises|os|process|worker_threads|inspector|vm|v8|repl|tty|stream|stream/promises)$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle in src/: break it by moving the shared part down a layer or into its own file.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'domain-is-innermost',
      severity: 'error',
      comment: 'domain/ is the innermost layer: it imports nothing of the other layers.',
      from: { path: '^src/domain/', pathNot: test },
      to: { path: '^src/(services|store|http|cli|web|wiring|client|terminal-core)/|^src/(main|config)\\.ts$' },
    },
    {
      name: 'domain-does-no-io',
      severity: 'error',
      comment: 'domain/ is pure: no core module that does I/O.',
      from: { path: '^src/domain/', pathNot: test },
      to: { dependencyTypes: ['core'], path: ioCoreModules },
    },
    {
      name: 'domain-has-no-packages',
      severity: 'error',
      comment:
        'domain/ is pure: no package (a database driver, Fastify, a logger … would bring I/O); node:crypto is ' +
        'the one library it uses.',
      from: { path: '^src/domain/', pathNot: test },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg'] },
    },
    {
      name: 'services-below-entry-points',
      severity: 'error',
      comment: 'services/ is called by http/, cli/ and web/, never the other way round.',
      from: { path: '^src/services/', pathNot: test },
      to: { path: '^src/(http|cli|web|wiring)/|^src/main\\.ts$' },
    },
    {
      name: 'store-below-entry-points',
      severity: 'error',
      comment: 'store/ implements the service ports; it knows nothing of http/, cli/, web/ or the wiring.',
      from: { path: '^src/store/', pathNot: test },
      to: { path: '^src/(http|cli|web|wiring)/|^src/main\\.ts$' },
    },
    {
      name: 'store-imports-service-types-only',
      severity: 'error',
      comment: 'store/ implements the ports services/ declares: it may import their types, never their code.',
      from: { path: '^src/store/', pathNot: test },
      to: { path: '^src/services/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'store-only-from-composition-root',
      severity: 'error',
      comment:
        'Only the composition root (src/main.ts, src/wiring/) imports store/; the other layers see the ports ' +
        'services/ declares.',
      from: { path: '^src/', pathNot: [test, '^src/(store|wiring)/', '^src/main\\.ts$'] },
      to: { path: '^src/store/' },
    },
    {
      name: 'wiring-by-type-from-http-and-web',
      severity: 'error',
      comment:
        'http/ and web/ receive their services as arguments: they may name the wiring\'s types (the set of ' +
        'services), never call it.',
      from: { path: '^src/(http|web)/', pathNot: test },
      to: { path: '^src/wiring/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'terminal-core-above-domain-only',
      severity: 'error',
      comment:
        'terminal-core/ is a terminal\'s code, not the platform\'s: it imports domain/ and nothing of the ' +
        'layers above it or beside it.',
      from: { path: '^src/terminal-core/', pathNot: test },
      to: { path: '^src/(services|store|http|cli|web|wiring|client)/|^src/(main|config)\\.ts$' },
    },
    {
      name: 'terminal-core-runs-in-browsers',
      severity: 'error',
      comment:
        'terminal-core/ is loaded by the browser authenticator as it is: no Node.js module, no package ' +
        '(WebCrypto and fetch are globals in both).',
      from: { path: '^src/terminal-core/', pathNot: test },
      to: {
        dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg'],
      },
    },
    {
      name: 'terminal-core-for-terminals-only',
      severity: 'error',
      comment: 'Only the terminals (cli/ and web/) use terminal-core/; the platform verifies with domain/.',
      from: { path: '^src/', pathNot: [test, '^src/(cli|web|terminal-core)/'] },
      to: { path: '^src/terminal-core/' },
    },
    {
      name: 'web-renders-only',
      severity: 'error',
      comment: 'web/ renders pages for http/; it does not import the routes or the CLI.',
      from: { path: '^src/web/', pathNot: test },
      to: { path: '^src/(http|cli)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a port type imported from store/ is the dependency the rules are about.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.cjs', '.mjs', '.json'],
    },
    moduleSystems: ['es6', 'cjs'],
  },
};
