/** The part of a pino logger the reporters use. */
export interface ReporterLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}
