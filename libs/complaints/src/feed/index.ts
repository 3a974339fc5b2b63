export * from './feed-cursor';
export * from './ticket-feed';
