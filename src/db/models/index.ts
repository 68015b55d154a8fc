export * from './organizations.js';
export * from './users.js';
export * from './sessions.js';
export * from './project-options.js';
export * from './activity.js';
export * from './issues.js';
