export * from './state-machine';
export * from './escalation-policy';
export * from './working-days';
export * from './sla-policy';
