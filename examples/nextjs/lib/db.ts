// lib/db.ts
// Stands in for your database: it only ever stores kc1 text. (A module of its own: a route
// file may export only its handlers and route options.)
export const db = new Map<string, string>()
