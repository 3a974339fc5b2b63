export * from './appeal-policy';
export * from './appeal-view';
export * from './appeals.service';
