# taskchat: one static binary on an empty base.
#
#   docker build -t taskchat .                                   # the service (default target)
#   docker build --target lambda-native -t taskchat-lambda .     # AWS Lambda, natively (cmd/lambda)
#   docker build --target lambda -t taskchat-lambda-adapter .    # AWS Lambda through the Lambda Web Adapter
#
# The builder is the official Go image; the runtime is scratch with the CA
# bundle, running as uid 1000 (Hugging Face's rule) on port 7860.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -tags timetzdata \
      -ldflags "-s -w -X github.com/taskchat/taskchat.Version=${VERSION}" \
      -o /out/taskchat ./cmd/taskchat

FROM scratch AS service
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/taskchat /taskchat
USER 1000:1000
ENV PORT=7860
EXPOSE 7860
ENTRYPOINT ["/taskchat"]

# AWS Lambda, natively: cmd/lambda answers the Runtime API itself
# (aws-lambda-go), so the image is the bootstrap binary and nothing else.
FROM build AS build-lambda
RUN CGO_ENABLED=0 go build -trimpath -tags lambda.norpc,timetzdata \
      -ldflags "-s -w -X github.com/taskchat/taskchat.Version=${VERSION}" \
      -o /out/bootstrap ./cmd/lambda

FROM scratch AS lambda-native
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build-lambda /out/bootstrap /bootstrap
ENTRYPOINT ["/bootstrap"]

# AWS Lambda, the alternative: the Lambda Web Adapter runs as an extension and forwards
# invocations to the HTTP server; it waits for /health before the first one.
FROM public.ecr.aws/awsguru/aws-lambda-adapter:0.9.1 AS lambda-adapter

FROM service AS lambda
COPY --from=lambda-adapter /lambda-adapter /opt/extensions/lambda-adapter
ENV AWS_LWA_READINESS_CHECK_PATH=/health \
    AWS_LWA_PORT=7860

# The default target: the service, without the adapter.
FROM service
