// PostgREST's table from SQLSTATE to HTTP status, shared by both adapters and
// by the test double of PostgREST, so every path maps errors the same way.
// https://postgrest.org/en/stable/references/errors.html
export function httpStatusForDbCode(code: string, anonymous: boolean): number {
  const pt = /^PT([1-5][0-9]{2})$/.exec(code);
  if (pt) return Number(pt[1]);
  if (code.startsWith('PGRST')) return pgrstStatus(code);
  if (code === '23503' || code === '23505') return 409;
  if (code === '42501') return anonymous ? 401 : 403;
  if (code === '42883' || code === '42P01') return 404;
  if (code === '25006') return 405;
  if (code === 'P0001') return 400;
  const cls = code.slice(0, 2);
  // Connection failures, insufficient resources (disk full, too many
  // connections) and operator intervention (57P01 admin shutdown, 57P03 cannot
  // connect now, 57014 canceled by the request's deadline): the database is
  // unavailable for now, so 503 and the client retries. Class 57 is this
  // project's addition to PostgREST's table (issue 17).
  if (cls === '08' || cls === '53' || cls === '57') return 503;
  if (cls === '28') return 403;
  if (['25', '2D', '38', '39', '3B', '40', '54', '55', '58', 'F0', 'HV', 'P0', 'XX'].includes(cls)) return 500;
  if (code === '42P17') return 500;
  return 400;
}

function pgrstStatus(code: string): number {
  if (code === 'PGRST202' || code === 'PGRST205') return 404;
  if (code.startsWith('PGRST3')) return 401;
  if (code.startsWith('PGRST0')) return 503;
  return 400;
}
