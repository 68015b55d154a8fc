export * from './organizations.js';
export * from './users.js';
