// Lives in @app/shared (a leaf module) so that the libs @app/database imports (receipts,
// directory) can use it without an import cycle.
export { preparedOn } from '@app/shared/prepared';
