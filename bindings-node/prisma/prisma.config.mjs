// prisma generate needs no database; the URL is a placeholder.
export default { schema: 'prisma/schema.prisma' }
