// npm run docs:matrix: writes the access matrix (test/support/access_matrix.ts)
// into README.md between its markers; the matrix test fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderMatrix } from '../test/support/access_matrix.ts';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const marked = /(<!-- access-matrix -->\n)[\s\S]*?(<!-- \/access-matrix -->)/;
if (!marked.test(readme)) throw new Error('README.md has no <!-- access-matrix --> ... <!-- /access-matrix --> block');
writeFileSync(path, readme.replace(marked, (_, start: string, end: string) => `${start}${renderMatrix()}\n${end}`));
console.log('README.md: access matrix updated');
