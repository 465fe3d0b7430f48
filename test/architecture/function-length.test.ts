// Proves that no function in src/ grows past 70 lines unless a comment says why, and keeps the list of the
// long ones still to split (issue #14) exact: a new long function fails, and so does a split one left listed.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The longest a function may be (STYLE.md: "Functions short (about 70 lines at most)"). */
const functionLinesMax = 70;

/** A comment before a long function that starts with this says why it is long, and excuses it. */
const excuse = 'Long function:';

/** Every `.ts` file under `directory` but tests. */
function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

type FunctionNode = ts.FunctionLikeDeclaration;

function isFunction(node: ts.Node): node is FunctionNode {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isArrowFunction(node) ||
    ts.isFunctionExpression(node) ||
    ts.isConstructorDeclaration(node)
  );
}

/** The name of a function: its own, its variable's or property's, or `<enclosing>>anonymous`. */
function nameOf(node: FunctionNode, enclosing: string | undefined): string {
  if (node.name !== undefined) return node.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) && parent.name !== undefined) {
    return parent.name.getText();
  }
  return `${enclosing ?? ''}>anonymous`;
}

/** Whether a comment before the function (or before the statement declaring it) starts with the excuse. */
function isExcused(source: ts.SourceFile, node: ts.Node): boolean {
  const text = source.getFullText();
  // `const f = () => …`: the comment sits before the statement, two levels above the function.
  const holders = ts.isVariableDeclaration(node.parent) ? [node, node.parent.parent.parent] : [node];
  return holders.some((holder) =>
    (ts.getLeadingCommentRanges(text, holder.getFullStart()) ?? []).some((range) =>
      text.slice(range.pos, range.end).includes(excuse),
    ),
  );
}

/** `file#name` of every function over the limit without an excuse. */
function longFunctions(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const relative = path.relative(root, file).split(path.sep).join('/');
  const found: string[] = [];
  const visit = (node: ts.Node, enclosing: string | undefined): void => {
    let name = enclosing;
    if (isFunction(node)) {
      name = nameOf(node, enclosing);
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      if (last - first + 1 > functionLinesMax && !isExcused(source, node)) found.push(`${relative}#${name}`);
    }
    ts.forEachChild(node, (child) => visit(child, name));
  };
  visit(source, undefined);
  return found;
}

describe('function length in src/', () => {
  it('has no function over 70 lines but those with a comment saying why', () => {
    const found = sourceFiles(path.join(root, 'src')).flatMap(longFunctions).sort();
    expect(found).toEqual([]);
  });

  it('finds a long function and accepts the comment that excuses one', () => {
    const body = Array.from({ length: functionLinesMax }, (_, index) => `  const v${index} = ${index};`);
    const long = ['export function tooLong(): void {', ...body, '}'].join('\n');
    const file = ts.createSourceFile('fixture.ts', long, ts.ScriptTarget.Latest, true);
    let lines = 0;
    ts.forEachChild(file, (node) => {
      if (isFunction(node)) {
        lines =
          file.getLineAndCharacterOfPosition(node.getEnd()).line -
          file.getLineAndCharacterOfPosition(node.getStart(file)).line +
          1;
      }
    });
    expect(lines).toBeGreaterThan(functionLinesMax);
    const excused = ts.createSourceFile(
      'fixture.ts',
      `// ${excuse} a table of cases read top to bottom.\n${long}`,
      ts.ScriptTarget.Latest,
      true,
    );
    const declaration = excused.statements[0]!;
    expect(isExcused(excused, declaration)).toBe(true);
    expect(isExcused(file, file.statements[0]!)).toBe(false);
  });
});
