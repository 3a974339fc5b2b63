export * from './holiday-estimator';
export * from './calendar-year';
export * from './deadlines';
export * from './calendar.service';
export * from './rebase-gate';
