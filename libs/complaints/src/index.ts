export * from './lifecycle';
export * from './trail';
export * from './complaint.types';
export * from './complaint.row';
export * from './complaints.service';
export * from './complaints.module';
export * from './jobs';
export * from './stats';
