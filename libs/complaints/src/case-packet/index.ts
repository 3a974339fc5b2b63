export * from './packet-rules';
export * from './case-packet.service';
export * from './packet-pdf';
