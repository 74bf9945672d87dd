FROM node:20-alpine
WORKDIR /srv
COPY services/api/ ./
RUN npm ci
CMD ["node", "index.js"]
