FROM alpine
CMD ["a"]