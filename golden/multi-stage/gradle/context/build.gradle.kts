plugins {
    kotlin("jvm") version "1.9.24"
    id("io.ktor.plugin") version "2.3.11"
}

group = "com.example"
version = "0.1.0"

kotlin {
    jvmToolchain(21)
}
