export * from './rule-sets';
export * from './rules.service';
