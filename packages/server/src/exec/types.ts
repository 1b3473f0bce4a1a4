/**
 * A command run in a set's container, seen from the server: the WebSocket route
 * (`wharf exec`, the console's terminal) and the SSH gateway both open one and
 * pump bytes through it. Callers check the user's tenant role first; opening
 * refuses infra containers and containers that do not run.
 */
export interface ExecRequest {
  tenant: string;
  appkey: string;
  id: string;
  /** A business container's name; default: the business container with the lowest index. */
  container?: string;
  /** Empty: the container's login shell (`/bin/sh` unless it has bash). */
  cmd: string[];
  tty: boolean;
  cols?: number;
  rows?: number;
  env?: string[];
}

export interface ExecStream {
  /** Bytes for the command's stdin. */
  write(data: Buffer): void;
  /** Closes the command's stdin (EOF). */
  endInput(): void;
  /** Window size of the TTY; ignored without one. */
  resize(cols: number, rows: number): void;
  /** Output as it comes; without a TTY stdout and stderr apart, with one everything is `stdout`. */
  onData(listener: (data: Buffer, stream: 'stdout' | 'stderr') => void): void;
  /** The command's exit code once it ends (rejects with a WharfError if the host goes away, or CONFLICT after close()). */
  readonly exited: Promise<number>;
  /** Ends the session (the command is killed with the connection). */
  close(): void;
}

/** Throws WharfError: SET_NOT_FOUND, CONTAINER_NOT_FOUND, FORBIDDEN (infra container), CONFLICT (it does not run), HOST_UNREACHABLE. */
export type OpenExec = (req: ExecRequest) => Promise<ExecStream>;
