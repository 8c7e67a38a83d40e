// Command lambda serves taskchat on AWS Lambda natively: the same Handler
// behind the events of a Function URL or an API Gateway HTTP API (payload
// 2.0) and of an API Gateway REST API (payload 1.0), through aws-lambda-go
// and aws-lambda-go-api-proxy. Built as bootstrap for provided.al2023:
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc,timetzdata -o bootstrap ./cmd/lambda
//
// The application is built on the first invocation and kept for the
// instance's life; its store is opened then and reused by every invocation.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/taskchat/taskchat"
)

func main() {
	lambda.Start(newHandler(http.HandlerFunc(taskchat.Handler)))
}

// errNotHTTP answers an event that is no HTTP request (a test event from
// the console, a schedule).
var errNotHTTP = errors.New("taskchat answers HTTP events only: a Function URL's, or API Gateway's (HTTP API or REST API)")

// newHandler answers an invocation with h, whichever HTTP event it is.
func newHandler(h http.Handler) func(context.Context, json.RawMessage) (any, error) {
	v2, v1 := httpadapter.NewV2(h), httpadapter.New(h)
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var probe struct {
			Version        string `json:"version"`
			HTTPMethod     string `json:"httpMethod"`
			RequestContext struct {
				HTTP struct {
					Method string `json:"method"`
				} `json:"http"`
			} `json:"requestContext"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, errNotHTTP
		}
		switch {
		case probe.Version == "2.0" || probe.RequestContext.HTTP.Method != "":
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, err
			}
			return v2.ProxyWithContext(ctx, ev)
		case probe.HTTPMethod != "":
			var ev events.APIGatewayProxyRequest
			if err := json.Unmarshal(raw, &ev); err != nil {
				return nil, err
			}
			return v1.ProxyWithContext(ctx, ev)
		}
		return nil, errNotHTTP
	}
}
