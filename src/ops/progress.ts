/**
 * A small progress bar for long CLI operations (replaying thousands of events). On a
 * terminal it redraws one line; in a log (CI, `render shell` piped) it prints a line
 * at every tenth, so the output stays readable. Written to stderr by the caller, so
 * stdout keeps only the result.
 */
export interface Progress {
  tick(count?: number): void;
  done(): void;
}

const WIDTH = 30;

export function createProgress(
  total: number,
  options: { write: (text: string) => void; interactive: boolean; label?: string },
): Progress {
  const label = options.label ?? 'progress';
  let current = 0;
  let lastTenth = -1;
  const render = () => {
    const ratio = total === 0 ? 1 : current / total;
    if (options.interactive) {
      const filled = Math.round(ratio * WIDTH);
      options.write(
        `\r${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${current}/${total} ${Math.floor(ratio * 100)}%`,
      );
      return;
    }
    const tenth = Math.floor(ratio * 10);
    if (tenth !== lastTenth) {
      lastTenth = tenth;
      options.write(`${label}: ${current}/${total} (${tenth * 10}%)\n`);
    }
  };
  render();
  return {
    tick(count = 1) {
      current = Math.min(total, current + count);
      render();
    },
    done() {
      current = total;
      render();
      if (options.interactive) options.write('\n');
    },
  };
}
