# syntax=docker/dockerfile:1
#
# One image for both processes of the promo-code service:
#   API     npm run api      (the default command)
#   worker  npm run worker
# Both run the TypeScript sources through tsx (a runtime dependency); there is no build step.
# docker-compose.yml builds this image and sets the configuration; see docs/deploy.md.

FROM node:20-bookworm-slim

# npm 11: the version that honours package.json "allowScripts" (install-script approvals).
RUN npm install -g npm@11 \
 && npm cache clean --force

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    PORT=3000 \
    PROMO_DATA_DIR=/var/lib/promo

WORKDIR /app

# Dependencies first, so that a change to the sources does not reinstall them.
# Installed as root and left owned by root: the service cannot modify its own code.
# patches/: fixes to dependencies that npm ci applies (postinstall: patch-package), see patches/README.md
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev \
 && npm cache clean --force

COPY . .

# The only directory the service writes to (the message log of the `log` channel).
RUN mkdir -p /var/lib/promo \
 && chown node:node /var/lib/promo

# The unprivileged user that the node image provides (uid 1000, home /home/node).
USER node

EXPOSE 3000
CMD ["npm", "run", "api"]
