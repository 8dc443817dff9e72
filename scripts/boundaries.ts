/**
 * The import boundaries between the modules, read from the source. `npm run boundaries` prints what breaks them
 * against the committed baseline (`-- --list` prints every violation, `-- --prune` drops baseline entries that no
 * longer occur; nothing ever adds one); test/architecture/boundaries.test.ts runs the same check in CI.
 *
 * The rules:
 * - `private-file`: a module (`src/modules/<m>/`) or the composition root imports a file of another module other
 *   than that module's `index.ts`. The index is a module's one door.
 * - `foreign-table`: a module imports a table it does not own. A table is a `const` initialised by `pgTable(...)`; it
 *   belongs to the module whose folder declares it, and the ones in `src/platform` belong to the platform, which
 *   modules reach through its functions. The imported name is followed through every re-export (an index that
 *   re-exports its tables does not launder them), and a namespace import, `export *` or dynamic `import()` of a file
 *   that exposes a table counts as importing it. The composition root (every file of `src/` outside modules/,
 *   platform/ and integrations/: app.ts, cli.ts, jobs.ts, rewrap.ts, seed.ts, a module list …) may import module
 *   indexes but no table either: it wires modules and calls their functions, it does not read or write their data.
 * - `upward-import`: `src/platform` or `src/integrations` imports anything under `src/modules`, even a type.
 * - `module-cycle`: the module-level graph (an edge for every import from one module's files into another's, value
 *   and type imports alike, since a type import couples the two just as much) has a circle. Each strongly connected
 *   set of modules is one violation, listed with one import for each edge inside it.
 *
 * What is read: every `*.ts` file under `src/` except `*.test.ts`, with its `import` and `export … from`
 * declarations, `import x = require(…)`, dynamic `import(…)` with a literal specifier and `import('…')` types. Test
 * files are not covered: they set up and inspect state through whatever tables a case needs, and no production file
 * imports a test, so a test's imports cannot couple two modules at run time.
 *
 * How: the TypeScript 7 API (`typescript/unstable/sync`, which drives the native compiler) builds a program of those
 * files alone (`noResolve`, `noLib`: no package types are loaded, which keeps a run to a few seconds), walks each
 * file's syntax tree, and asks the checker where each imported name is finally declared. `unstable` is TypeScript's
 * own word for that API: it may change between minor versions. package-lock.json pins the version, and
 * test/architecture/boundaries-analyser.test.ts fails if an upgrade stops the analyser from seeing an import.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import {
  type CallExpression,
  type ExportDeclaration,
  type Identifier,
  type ImportDeclaration,
  type ImportEqualsDeclaration,
  type ImportTypeNode,
  type Node,
  type SourceFile,
  SyntaxKind,
  type VariableStatement,
} from 'typescript/unstable/ast';
import {
  API,
  type Checker,
  type Project,
  SymbolFlags,
  type Symbol as TsSymbol,
} from 'typescript/unstable/sync';

export type Rule = 'private-file' | 'foreign-table' | 'upward-import' | 'module-cycle';

export interface Violation {
  rule: Rule;
  /** The baseline entry: names files, tables and modules, never line numbers, so it survives unrelated edits. */
  key: string;
  /** Where (file:line), the import, the rule, and what to do instead. */
  message: string;
}

export interface BoundaryReport {
  /** Every violation, sorted by key; one per key (the message lists every import site behind it). */
  violations: Violation[];
  /** Production files read. */
  files: number;
  /** Import sites read (declarations, re-exports, dynamic imports, import types). */
  imports: number;
  /** Tables found, by owner (a module's name, or `platform`). */
  tables: Map<string, string[]>;
  /** Every module folder under src/modules, and the modules each one imports. */
  graph: Map<string, Set<string>>;
}

/**
 * Where a file sits: in a module, the platform, the integrations, or the composition root (every other file under
 * src/: the top-level app.ts, cli.ts, jobs.ts, rewrap.ts, seed.ts … and a module list such as src/modules.ts).
 */
type Area =
  | { kind: 'module'; module: string }
  | { kind: 'platform' }
  | { kind: 'integrations' }
  | { kind: 'root' }
  | { kind: 'outside' };

interface ImportSite {
  /** Repository-relative, with forward slashes. */
  file: string;
  line: number;
  /** The statement or expression, on one line. */
  text: string;
  /** Repository-relative path the specifier resolves to; null for a package. */
  target: string | null;
  /** The module specifier node (the checker resolves it to the target module's symbol). */
  specifier: Node;
  /** The names the site brings in, each as the node the checker resolves; empty when `whole`. */
  names: Node[];
  /** The site takes the whole module: namespace import, `export *`, dynamic `import()`, bare import type. */
  whole: boolean;
}

interface Table {
  name: string;
  /** Repository-relative file that declares it. */
  file: string;
  owner: string;
}

const TEST_FILE = /\.test\.ts$/;

/** Reads the production files under `<root>/src` and returns every boundary violation. */
export function analyseBoundaries(root: string): BoundaryReport {
  const absoluteRoot = resolve(root);
  const configDir = mkdtempSync(join(tmpdir(), 'boundaries-'));
  const configFile = join(configDir, 'tsconfig.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      compilerOptions: {
        target: 'es2024',
        module: 'preserve',
        moduleResolution: 'bundler',
        allowImportingTsExtensions: true,
        noEmit: true,
        noResolve: true,
        noLib: true,
        types: [],
      },
      include: [join(absoluteRoot, 'src', '**', '*.ts')],
      exclude: [join(absoluteRoot, 'src', '**', '*.test.ts')],
    }),
  );
  const api = new API({ cwd: absoluteRoot });
  try {
    const snapshot = api.updateSnapshot({ openProjects: [configFile] });
    const project = snapshot.getProject(configFile) ?? snapshot.getProjects()[0];
    if (!project) throw new Error(`the TypeScript API opened no project for ${configFile}`);
    return analyseProject(absoluteRoot, project);
  } finally {
    api.close();
    rmSync(configDir, { recursive: true, force: true });
  }
}

function analyseProject(root: string, project: Project): BoundaryReport {
  const srcPrefix = join(root, 'src') + sep;
  const fileNames = project.program
    .getSourceFileNames()
    .filter((name) => name.startsWith(srcPrefix) && name.endsWith('.ts') && !TEST_FILE.test(name))
    .sort();
  const sources = fileNames.map((name) => {
    const source = project.program.getSourceFile(name);
    if (!source) throw new Error(`the TypeScript API has no source for ${name}`);
    return source;
  });

  const tables = new Map<string, Table>();
  for (const source of sources) {
    for (const table of tablesDeclaredIn(root, source))
      tables.set(tableId(join(root, table.file), table.name), table);
  }
  const sites = sources.flatMap((source) => importSites(root, source));
  const resolver = new TableResolver(project.checker, tables);
  // Only a file that declares a table or re-exports something can hand one out; the checker is asked about the
  // names imported from those files alone, which keeps the round trips to the compiler few.
  const tableFiles = new Set([...tables.values()].map((table) => table.file));
  const exposing = new Set(
    sources
      .filter(
        (source) =>
          tableFiles.has(repoPath(root, source.fileName)) ||
          source.statements.some(
            (statement) =>
              statement.kind === SyntaxKind.ExportDeclaration ||
              statement.kind === SyntaxKind.ExportAssignment,
          ),
      )
      .map((source) => repoPath(root, source.fileName)),
  );

  const graph = new Map<string, Set<string>>();
  for (const source of sources) {
    const area = areaOf(repoPath(root, source.fileName));
    if (area.kind === 'module' && !graph.has(area.module)) graph.set(area.module, new Set());
  }
  const edges = new Map<string, ImportSite[]>();
  const found = new Map<string, { rule: Rule; head: string; sites: string[]; advice: string }>();
  const report = (rule: Rule, key: string, head: string, site: ImportSite, advice: string) => {
    const entry = found.get(key) ?? { rule, head, sites: [], advice };
    entry.sites.push(`  ${site.file}:${site.line}  ${site.text}`);
    found.set(key, entry);
  };

  for (const site of sites) {
    const from = areaOf(site.file);
    const to = site.target === null ? ({ kind: 'outside' } as const) : areaOf(site.target);
    const fromLabel = from.kind === 'module' ? `the ${from.module} module` : 'the composition root';

    if ((from.kind === 'platform' || from.kind === 'integrations') && to.kind === 'module') {
      report(
        'upward-import',
        `upward-import: ${site.file} -> ${site.target}`,
        `${site.file} (src/${from.kind}) imports ${site.target}, a file of the ${to.module} module.`,
        site,
        `src/${from.kind} sits below the modules and imports nothing from src/modules, not even a type. Move what ` +
          `both sides need down into src/${from.kind} (as the provider ports moved to src/integrations/ports.ts), ` +
          'or declare an interface here and let the module pass its implementation in.',
      );
    }

    if ((from.kind === 'module' || from.kind === 'root') && to.kind === 'module') {
      const ownModule = from.kind === 'module' && from.module === to.module;
      if (from.kind === 'module' && !ownModule) {
        const list = edges.get(`${from.module}\n${to.module}`) ?? [];
        list.push(site);
        edges.set(`${from.module}\n${to.module}`, list);
        graph.get(from.module)?.add(to.module);
      }
      const index = `src/modules/${to.module}/index.ts`;
      if (!ownModule && site.target !== index) {
        report(
          'private-file',
          `private-file: ${site.file} -> ${site.target}`,
          `${site.file} (${fromLabel}) imports ${site.target}, a private file of the ${to.module} module.`,
          site,
          `Import from ${index}, the module's one door: if ${to.module} means to offer this, export it there; ` +
            `otherwise ask ${to.module} for a function that does the job.`,
        );
      }
    }

    const crosses =
      (from.kind === 'module' &&
        (to.kind === 'platform' || (to.kind === 'module' && to.module !== from.module))) ||
      (from.kind === 'root' && (to.kind === 'platform' || to.kind === 'module'));
    if (!crosses || site.target === null || !exposing.has(site.target)) continue;
    for (const table of resolver.tablesOf(site)) {
      const ownerModule = from.kind === 'module' ? from.module : null;
      if (table.owner === ownerModule) continue;
      const owner = table.owner === 'platform' ? 'the platform' : `the ${table.owner} module`;
      report(
        'foreign-table',
        `foreign-table: ${site.file} -> ${table.owner}.${table.name}`,
        `${site.file} (${fromLabel}) imports \`${table.name}\`, a table of ${owner} (declared in ${table.file}).`,
        site,
        table.owner === 'platform'
          ? 'Platform tables are read and written only by src/platform: call the platform function that works on ' +
              'this table (or add one there).'
          : `Only ${table.owner} reads or writes its tables: call a function that ${table.owner} exports from its ` +
              `index.ts (a read model or a command), or add one there` +
              (ownerModule ? `; if the table really belongs to ${ownerModule}, move it there.` : '.'),
      );
    }
  }

  for (const members of stronglyConnected(graph)) {
    const inside = new Set(members);
    const lines: string[] = [];
    for (const from of members) {
      for (const to of [...(graph.get(from) ?? [])].sort()) {
        if (!inside.has(to)) continue;
        const edgeSites = edges.get(`${from}\n${to}`) ?? [];
        const first = edgeSites[0]!;
        const more = edgeSites.length > 1 ? ` (and ${edgeSites.length - 1} more)` : '';
        lines.push(`  ${from} -> ${to}: ${first.file}:${first.line}  ${first.text}${more}`);
      }
    }
    found.set(`module-cycle: ${members.join(', ')}`, {
      rule: 'module-cycle',
      head: `The modules ${members.join(', ')} import each other in a circle (value and type imports both count):`,
      sites: lines,
      advice:
        'Break one edge: move the shared piece to the module it belongs to, let one side publish an event the ' +
        'other subscribes to, or have the composition root pass a function in.',
    });
  }

  const violations = [...found.entries()]
    .map(([key, entry]) => ({
      rule: entry.rule,
      key,
      message: `[${entry.rule}] ${entry.head}\n${entry.sites.join('\n')}\n  Instead: ${entry.advice}`,
    }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  const byOwner = new Map<string, string[]>();
  for (const table of tables.values())
    byOwner.set(table.owner, [...(byOwner.get(table.owner) ?? []), table.name]);
  return { violations, files: sources.length, imports: sites.length, tables: byOwner, graph };
}

/** Follows imported names to their declarations and says which of them are tables. */
class TableResolver {
  readonly #checker: Checker;
  readonly #tables: Map<string, Table>;
  readonly #moduleTables = new Map<number, Table[]>();

  constructor(checker: Checker, tables: Map<string, Table>) {
    this.#checker = checker;
    this.#tables = tables;
  }

  tablesOf(site: ImportSite): Table[] {
    if (site.whole) {
      const moduleSymbol = this.#checker.getSymbolAtLocation(site.specifier);
      return moduleSymbol ? this.#exportedTables(moduleSymbol) : [];
    }
    if (site.names.length === 0) return [];
    const found: Table[] = [];
    for (const symbol of this.#checker.getSymbolAtLocation(site.names)) {
      const table = symbol && this.#tableOf(symbol);
      if (table) found.push(table);
    }
    return found;
  }

  #exportedTables(moduleSymbol: TsSymbol): Table[] {
    const cached = this.#moduleTables.get(moduleSymbol.id);
    if (cached) return cached;
    const found: Table[] = [];
    for (const symbol of this.#checker.getExportsOfModule(moduleSymbol)) {
      const table = this.#tableOf(symbol);
      if (table) found.push(table);
    }
    this.#moduleTables.set(moduleSymbol.id, found);
    return found;
  }

  #tableOf(symbol: TsSymbol): Table | undefined {
    const target = symbol.flags & SymbolFlags.Alias ? this.#checker.getAliasedSymbol(symbol) : symbol;
    for (const declaration of target.declarations) {
      const table = this.#tables.get(tableId(declaration.path, target.name));
      if (table) return table;
    }
    return undefined;
  }
}

function tableId(absoluteFile: string, name: string): string {
  return `${absoluteFile}#${name}`;
}

/** `const x = pgTable(...)` declarations at the top of a file (exported or not: an `export { x }` can follow). */
function tablesDeclaredIn(root: string, source: SourceFile): Table[] {
  const file = repoPath(root, source.fileName);
  const area = areaOf(file);
  const owner = area.kind === 'module' ? area.module : area.kind === 'platform' ? 'platform' : file;
  const found: Table[] = [];
  for (const statement of source.statements) {
    if (statement.kind !== SyntaxKind.VariableStatement) continue;
    for (const declaration of (statement as VariableStatement).declarationList.declarations) {
      if (declaration.name.kind !== SyntaxKind.Identifier || !declaration.initializer) continue;
      if (!callsPgTable(declaration.initializer)) continue;
      found.push({ name: (declaration.name as Identifier).text, file, owner });
    }
  }
  return found;
}

/** `pgTable(...)`, possibly followed by calls on its result (`pgTable(...).enableRLS()`). */
function callsPgTable(expression: Node): boolean {
  let node: Node = expression;
  for (;;) {
    if (node.kind === SyntaxKind.CallExpression) {
      const callee = (node as CallExpression).expression;
      if (callee.kind === SyntaxKind.Identifier && (callee as Identifier).text === 'pgTable') return true;
      node = callee;
    } else if (node.kind === SyntaxKind.PropertyAccessExpression) {
      node = (node as unknown as { expression: Node }).expression;
    } else {
      return false;
    }
  }
}

function importSites(root: string, source: SourceFile): ImportSite[] {
  const file = repoPath(root, source.fileName);
  const sites: ImportSite[] = [];
  const add = (node: Node, specifier: Node, names: Node[], whole: boolean) => {
    if (
      specifier.kind !== SyntaxKind.StringLiteral &&
      specifier.kind !== SyntaxKind.NoSubstitutionTemplateLiteral
    )
      return;
    const text = (specifier as unknown as { text: string }).text;
    sites.push({
      file,
      line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1,
      text: oneLine(node.getText(source)),
      target: resolveSpecifier(root, source.fileName, text),
      specifier,
      names,
      whole,
    });
  };

  for (const statement of source.statements) {
    if (statement.kind === SyntaxKind.ImportDeclaration) {
      const declaration = statement as ImportDeclaration;
      const clause = declaration.importClause;
      const names: Node[] = [];
      let whole = false;
      if (clause?.name) names.push(clause.name);
      const bindings = clause?.namedBindings;
      if (bindings?.kind === SyntaxKind.NamespaceImport) whole = true;
      else if (bindings?.kind === SyntaxKind.NamedImports)
        for (const element of bindings.elements) names.push(element.name);
      add(statement, declaration.moduleSpecifier, names, whole);
    } else if (statement.kind === SyntaxKind.ExportDeclaration) {
      const declaration = statement as ExportDeclaration;
      if (!declaration.moduleSpecifier) continue;
      const clause = declaration.exportClause;
      const names: Node[] = [];
      if (clause?.kind === SyntaxKind.NamedExports)
        for (const element of clause.elements) names.push(element.name);
      add(statement, declaration.moduleSpecifier, names, clause?.kind !== SyntaxKind.NamedExports);
    } else if (statement.kind === SyntaxKind.ImportEqualsDeclaration) {
      const declaration = statement as ImportEqualsDeclaration;
      const reference = declaration.moduleReference;
      if (reference.kind !== SyntaxKind.ExternalModuleReference) continue;
      add(statement, reference.expression, [], true);
    }
  }

  // Dynamic imports and import types can sit anywhere; most files have neither, so skip the walk for those.
  if (/\bimport\s*\(/.test(source.text)) {
    const visit = (node: Node): undefined => {
      if (node.kind === SyntaxKind.CallExpression) {
        const call = node as CallExpression;
        if (call.expression.kind === SyntaxKind.ImportKeyword && call.arguments[0])
          add(node, call.arguments[0], [], true);
      } else if (node.kind === SyntaxKind.ImportType) {
        const type = node as ImportTypeNode;
        if (type.argument.kind === SyntaxKind.LiteralType) {
          const literal = (type.argument as unknown as { literal: Node }).literal;
          const head = type.qualifier ? leftmost(type.qualifier) : undefined;
          add(node, literal, head ? [head] : [], !head);
        }
      }
      node.forEachChild(visit);
      return undefined;
    };
    source.forEachChild(visit);
  }
  return sites;
}

/** `a` of the qualified name `a.b.c`. */
function leftmost(name: Node): Node {
  let node = name;
  while (node.kind === SyntaxKind.QualifiedName) node = (node as unknown as { left: Node }).left;
  return node;
}

/** A relative specifier as a repository-relative path; null for a package (bare or `node:` specifier). */
function resolveSpecifier(root: string, fromFile: string, specifier: string): string | null {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return null;
  return repoPath(root, resolve(dirname(fromFile), specifier));
}

function repoPath(root: string, absolute: string): string {
  return relative(root, absolute).split(sep).join('/');
}

function areaOf(path: string): Area {
  const parts = path.split('/');
  if (parts[0] !== 'src') return { kind: 'outside' };
  if (parts[1] === 'modules' && parts.length >= 4) return { kind: 'module', module: parts[2]! };
  if (parts[1] === 'platform') return { kind: 'platform' };
  if (parts[1] === 'integrations') return { kind: 'integrations' };
  return { kind: 'root' };
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').replace(/\{ /g, '{ ').trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}

/** Tarjan's strongly connected components with more than one member, each sorted, in sorted order. */
function stronglyConnected(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return components.sort((a, b) => (a.join() < b.join() ? -1 : 1));
}

export const BASELINE_PATH = 'test/architecture/boundary-baseline.json';

export interface Baseline {
  about: string;
  violations: string[];
}

export function readBaseline(root: string): Baseline {
  return JSON.parse(readFileSync(join(root, BASELINE_PATH), 'utf8')) as Baseline;
}

/** Violations the baseline does not list, and baseline entries that no longer occur. */
export function compareWithBaseline(
  violations: readonly Violation[],
  baseline: readonly string[],
): { unexpected: Violation[]; stale: string[] } {
  const listed = new Set(baseline);
  const current = new Set(violations.map((violation) => violation.key));
  return {
    unexpected: violations.filter((violation) => !listed.has(violation.key)),
    stale: [...listed].filter((key) => !current.has(key)).sort(),
  };
}

function main(argv: string[]): number {
  const root = resolve(import.meta.dirname, '..');
  const started = performance.now();
  const report = analyseBoundaries(root);
  const baseline = readBaseline(root);
  const { unexpected, stale } = compareWithBaseline(report.violations, baseline.violations);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const tableCount = [...report.tables.values()].reduce((sum, names) => sum + names.length, 0);
  const byRule = new Map<Rule, number>();
  for (const violation of report.violations)
    byRule.set(violation.rule, (byRule.get(violation.rule) ?? 0) + 1);
  const out: string[] = [
    `read ${report.files} files, ${report.imports} imports, ${tableCount} tables, ${report.graph.size} modules in ${seconds} s`,
    `violations: ${report.violations.length} (${[...byRule].map(([rule, n]) => `${rule} ${n}`).join(', ') || 'none'}); ` +
      `baseline: ${baseline.violations.length}; not in the baseline: ${unexpected.length}; fixed but still listed: ${stale.length}`,
  ];
  if (argv.includes('--list')) out.push('', ...report.violations.map((violation) => violation.message));
  else if (unexpected.length > 0)
    out.push('', 'Not in the baseline:', ...unexpected.map((violation) => violation.message));
  if (stale.length > 0) {
    if (argv.includes('--prune')) {
      const kept = baseline.violations.filter((key) => !stale.includes(key));
      writeFileSync(
        join(root, BASELINE_PATH),
        `${JSON.stringify({ ...baseline, violations: kept }, null, 2)}\n`,
      );
      out.push(
        '',
        `removed ${stale.length} fixed entries from ${BASELINE_PATH}:`,
        ...stale.map((key) => `  ${key}`),
      );
    } else {
      out.push(
        '',
        `Fixed but still listed in ${BASELINE_PATH} (remove them, or run npm run boundaries -- --prune):`,
        ...stale.map((key) => `  ${key}`),
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return unexpected.length > 0 || (stale.length > 0 && !argv.includes('--prune')) ? 1 : 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
