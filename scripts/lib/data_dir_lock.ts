// One process per embedded data folder. Two PGlite instances on one folder
// each keep their own view and overwrite each other's files: what one wrote is
// lost when the other saves. So the folder is locked for the process's life:
// `<folder>.lock` holds the owner's pid, created exclusively; a lock whose
// process is gone (a crash, kill -9) is taken over.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export class DataDirInUse extends Error {}

/** Locks the folder for this process; the returned function releases it (also done at exit). */
export function lockDataDir(dataDir: string): () => void {
  const lock = `${resolve(dataDir)}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const owner = Number(readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new DataDirInUse(`${dataDir} is in use by another process (pid ${owner}, another npm start?): stop it, ` +
          `or give this one its own folder and port: DATA_DIR=.data/second PORT=54322 npm start`);
      }
      unlinkSync(lock); // its owner is gone
    }
  }
  const release = () => {
    try {
      if (readFileSync(lock, 'utf8').trim() === String(process.pid)) unlinkSync(lock);
    } catch {
      // already gone
    }
    process.off('exit', release);
  };
  process.on('exit', release);
  return release;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
