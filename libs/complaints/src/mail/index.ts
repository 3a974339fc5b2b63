export * from './mail.jobs';
export * from './mail-templates';
export * from './mail.service';
