import { resolve } from 'node:path';
import { loadRuleSetFolder } from './rule-set-files';
import type { RuleSet } from './rule-sets';

/** The repository's rules/ folder (RULE_SETS_DIR's default), for unit tests. */
export const REPO_RULES_DIR = resolve(__dirname, '../../../../rules');

/** The committed sets, loaded and validated as at start-up: [cn-12315, platform-live-commerce]. */
export const committedRuleSets = (): RuleSet[] => loadRuleSetFolder(REPO_RULES_DIR);
