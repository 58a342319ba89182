/**
 * The one contract every transport (local folders, SFTP) fulfils, so the pipeline never knows
 * which it talks to: list/notice complete files, hand them over, settle the source only after the
 * bytes are committed, and deliver outbound files by writing a temporary name then renaming.
 */
export interface IncomingFile {
  /** The file's name at the source. */
  name: string;
  /** A local path the pipeline can read (the file itself, or a downloaded copy). */
  localPath: string;
  size: number;
}

export interface SettleReport {
  documentId: number;
  status: string;
  errorCode: string | null;
  errorMessage: string | null;
  rejections: unknown[];
}

/** What a source reports for the status API. */
export interface SourceStatus {
  lastError: string | null;
  lastErrorAt: string | null;
  lastPollAt: string | null;
  lastInboundAt: string | null;
  lastOutboundAt: string | null;
}

/**
 * How a source shares its work with other instances (set by the pipeline before `start`). Without
 * it a source assumes it is alone.
 */
export interface SourceCoordination {
  /** May this instance poll now? (One poller per remote channel: a lease, renewed on each call.) */
  mayPoll(): Promise<boolean>;
  /** Give the right to poll back (at stop), so that another instance takes over at once. */
  release(): Promise<void>;
  /** A claimed local file a document names (being worked on, or settled by recovery). */
  isRecorded(localPath: string): Promise<boolean>;
  /**
   * A file claimed this long ago that no document names was claimed by an instance that died
   * before recording it: it goes back to in/. `null`: only at start, and every such file (alone
   * on the data dir, nothing is in hand).
   */
  orphanAfterMs: number | null;
}

export interface InboundSource {
  /** Set by the pipeline before start (several instances). */
  coordination?: SourceCoordination;
  readonly id: string;
  /** Where documents from this source say they came from, e.g. `folder:demo-retail`. */
  readonly channel: string;
  /**
   * A remote source: start-up recovery leaves its unfinished files to its next poll (which finds the
   * same name and hash) instead of settling them blindly.
   */
  readonly remote?: boolean;
  readonly status?: SourceStatus;
  /** Sessions open to the source's host (all channels to it), the most ever open, the limit. */
  readonly sessions?: { host: string; open: number; peak: number; limit: number };
  /**
   * Start noticing files; `onFile` is awaited, and files are handed over one at a time per source.
   * For a remote source it resolves once the file is processed and settled; for a local one once it
   * is recorded (processing follows in the pipeline's queue).
   */
  start(onFile: (file: IncomingFile) => Promise<void>): Promise<void>;
  /** The bytes are committed: move the source to archive (ok) or error (with the report). */
  settle(file: IncomingFile, documentId: number, outcome: 'archive' | 'error', report?: SettleReport): Promise<void>;
  stop(): Promise<void>;
}

export interface OutboundSink {
  readonly id: string;
  /** Write under a temporary name, then rename into place: a reader never sees a partial file. */
  deliver(filename: string, content: string | Buffer): Promise<void>;
  /** The same for a document kept in a file (large feeds): copied, never read whole into memory. */
  deliverFile(filename: string, localPath: string): Promise<void>;
}
