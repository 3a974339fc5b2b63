export * from './rule-sets';
export * from './rules.service';
export {
  RULE_SET_ID_PATTERN,
  RuleSetFileError,
  loadRuleSetFolder,
  loadRuleSets,
} from './rule-set-files';
