// npm run docs:matrix: writes the access matrix (test/support/access_matrix.ts)
// into docs/access.md between its markers; the matrix test fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { ACCESS_DOC, renderMatrix } from '../test/support/access_matrix.ts';
import { writeBlock } from './lib/doc_blocks.ts';

writeFileSync(ACCESS_DOC, writeBlock(readFileSync(ACCESS_DOC, 'utf8'), 'access-matrix', renderMatrix(), 'docs/access.md'));
console.log('docs/access.md: access matrix updated');
